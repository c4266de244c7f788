{#
    Domain keys for identity resolution, from a URL, a host or an e-mail domain:
      identity_host             lower-cased host: no scheme, user, port, path, `www.` or final dot
      identity_registrable_domain  the domain a company registers: the last two labels, or three
                                under a country's second-level suffix (acme.co.uk, acme.com.au),
                                so app.acme.com and www.acme.com are both acme.com
      identity_domain_label     the registrable domain without its suffix (acme for acme.com,
                                acme.co.uk, acme.de): the key of the lower-confidence
                                country-TLD rule
      identity_is_personal_domain  true for mailbox providers listed in the seed
                                personal_email_domains (gmx.* style rows match any suffix)
    No public-suffix list ships with Postgres; the second-level suffixes below cover the
    countries a small business meets. A miss only makes a domain look like its own company.
#}
{% macro identity_host(column) -%}
    nullif(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(lower(trim({{ column }})), '^[a-z][a-z0-9+.-]*://', ''),
                    '^[^/@]*@', ''),
                '[/:?#].*$', ''),
            '^(www[0-9]*\.)|\.$', '', 'g'),
        '')
{%- endmacro %}

{% macro identity_registrable_domain(column) -%}
    (
        select coalesce(
            substring(h.host from '([a-z0-9-]+\.(?:co|com|org|net|ac|gov|edu|ltd|plc|ne|or|gv)\.[a-z]{2})$'),
            substring(h.host from '([a-z0-9-]+\.[a-z0-9-]+)$')
        )
        from (select {{ identity_host(column) }} as host) as h
    )
{%- endmacro %}

{% macro identity_domain_label(column) -%}
    split_part({{ identity_registrable_domain(column) }}, '.', 1)
{%- endmacro %}

{% macro identity_is_personal_domain(domain) -%}
    exists (
        select 1
        from {{ ref('personal_email_domains') }} as personal
        where {{ domain }} like replace(personal.domain_pattern, '*', '%')
    )
{%- endmacro %}

{#
    A company name as a comparable key: lower-case, `&` as "and", punctuation dropped, legal
    and group suffixes dropped (Acme Inc., ACME LLC, Acme Group -> acme). Two companies can
    share such a key, which is why the rule that uses it is the least confident one.
#}
{% macro identity_company_name_key(column) -%}
    nullif(
        trim(regexp_replace(
            regexp_replace(
                regexp_replace(replace(lower(trim({{ column }})), '&', ' and '), '[^a-z0-9 ]+', ' ', 'g'),
                '(\s+(inc|incorporated|llc|llp|ltd|limited|co|company|corp|corporation|group|gmbh|ag|plc|pty|sa|sarl|srl|bv|nv|oy|ab))+\s*$', ''),
            '\s+', ' ', 'g')),
        '')
{%- endmacro %}
