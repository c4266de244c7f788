{#
    E-mail keys for identity resolution. An address is compared on its mailbox, not on how it
    was typed.

    Reading a field (identity_email_addresses): a field can hold several addresses (QuickBooks
    accepts "a@x.com, b@y.com"), display names ("Doe, Jane" <jane@x.com>), a `mailto:` prefix
    and stray punctuation ("jane@x.com.", "(jane@x.com);"). Every address-shaped run of the field
    is taken, in the order typed, trimmed of dots and single quotes at its ends (an apostrophe
    inside stays: o'brien@ is an address) and lower-cased (domains are
    case-insensitive and every provider in our data treats local parts so too). Anything without
    exactly one non-empty local part and a dotted domain is no address, never a key.

    The mailbox (identity_normalised_email): the plus-alias dropped (jane+shop@ reaches jane@);
    a provider's other domains for the same account named as one (identity_mailbox_domain);
    dots dropped only where the provider ignores them (Gmail: j.a.n.e@gmail.com is jane@).
    Dots elsewhere are kept: at a company domain first.last@ and firstlast@ can be two people.
#}
{% macro identity_email_addresses(column) -%}
    array(
        select found.address
        from (
            select
                btrim(lower(match[1]), '.''') as address,
                position_in_field
            from regexp_matches(
                coalesce({{ column }}, ''),
                '([^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+)', 'g'
            ) with ordinality as typed(match, position_in_field)
        ) as found
        where found.address ~ '^[^@\s.][^@\s]*@[^@\s.]+(\.[^@\s.]+)+$'
        order by found.position_in_field
    )
{%- endmacro %}

{# The first address a field holds: the one a system shows as the record's e-mail. #}
{% macro identity_email_lowered(column) -%}
    ({{ identity_email_addresses(column) }})[1]
{%- endmacro %}

{% macro identity_email_domain(column) -%}
    {{ identity_mailbox_domain('split_part(' ~ identity_email_lowered(column) ~ ", '@', 2)") }}
{%- endmacro %}

{#
    Domains a mailbox provider gives one account under (the same username is the same person):
    Google's googlemail.com is gmail.com; Proton's protonmail.com, protonmail.ch and pm.me are
    proton.me; Apple's me.com and mac.com are icloud.com. Microsoft's outlook.com, hotmail.com
    and live.com are separate accounts, as are Yahoo's ymail.com and rocketmail.com: not here.
#}
{% macro identity_mailbox_domain(domain) -%}
    case {{ domain }}
        when 'googlemail.com' then 'gmail.com'
        when 'protonmail.com' then 'proton.me'
        when 'protonmail.ch' then 'proton.me'
        when 'pm.me' then 'proton.me'
        when 'me.com' then 'icloud.com'
        when 'mac.com' then 'icloud.com'
        else {{ domain }}
    end
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
                {{ identity_mailbox_domain("split_part(lowered.address, '@', 2)") }} as domain
            from (select {{ identity_email_lowered(column) }} as address) as lowered
            where lowered.address is not null
        ) as parts
        where parts.mailbox <> ''
    )
{%- endmacro %}
