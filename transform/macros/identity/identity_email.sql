{#
    E-mail keys for identity resolution. An address is compared on its mailbox, not on how it
    was typed: trimmed and lower-cased (domains are case-insensitive and every provider in our
    data treats local parts so too), the plus-alias dropped (jane+shop@ reaches jane@), and for
    Gmail the dots dropped (j.a.n.e@gmail.com is jane@gmail.com; googlemail.com is gmail.com).
    Dots elsewhere are kept: at a company domain first.last@ and firstlast@ can be two people.
    Anything without exactly one non-empty local part and domain is null, never a key.
#}
{% macro identity_email_lowered(column) -%}
    case
        when lower(trim({{ column }})) ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then lower(trim({{ column }}))
    end
{%- endmacro %}

{% macro identity_email_domain(column) -%}
    {{ identity_gmail_alias('split_part(' ~ identity_email_lowered(column) ~ ", '@', 2)") }}
{%- endmacro %}

{% macro identity_gmail_alias(domain) -%}
    case when {{ domain }} = 'googlemail.com' then 'gmail.com' else {{ domain }} end
{%- endmacro %}

{% macro identity_normalised_email(column) -%}
    (
        select
            case
                when parts.domain = 'gmail.com' then replace(parts.mailbox, '.', '')
                else parts.mailbox
            end || '@' || parts.domain
        from (
            select
                split_part(split_part(lowered.address, '@', 1), '+', 1) as mailbox,
                {{ identity_gmail_alias("split_part(lowered.address, '@', 2)") }} as domain
            from (select {{ identity_email_lowered(column) }} as address) as lowered
            where lowered.address is not null
        ) as parts
        where parts.mailbox <> ''
    )
{%- endmacro %}
