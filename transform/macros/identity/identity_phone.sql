{#
    A phone number as a comparable key, `<country code>:<national number>`, whatever its format:
      +44 20 7946 0958, 0044 (0)20 7946 0958  -> 44:2079460958   (international: + or 00)
      020 7946 0958, (020) 7946-0958          -> :2079460958     (national: no country code)
      +1 (415) 555-0100 / 1-415-555-0100      -> 1:4155550100 / :4155550100
    An extension (ext. 12, x12, #12) is dropped, and so are a national number's leading zeros
    (the trunk prefix: 020 in the UK is +44 20; Italy's +39 06 keeps its 0, dropped on both
    sides alike) and a North American national number's leading 1. The country code is read
    off the front of an international number: calling codes are prefix-free (ITU E.164), so
    1 and 7 are one digit, the two-digit codes are listed below, every other code has three.
    Fewer than 7 national digits is no usable key (a short code, an extension alone).
    Two keys with the same national number but only one country code may still be two
    countries' numbers: the rule that links them says so with a lower confidence.
#}
{% macro identity_phone_key(column) -%}
    (
        select case when length(national.number) >= 7 then national.country || ':' || national.number end
        from (
            select
                coded.country,
                case
                    when coded.country = '' and length(coded.rest) = 11 and coded.rest like '1%'
                        then substr(coded.rest, 2)
                    else ltrim(coded.rest, '0')
                end as number
            from (
                select cut.country, substr(typed.digits, length(cut.country) + 1) as rest
                from (
                    select
                        number_part ~ '^\s*(\+|00)' as international,
                        regexp_replace(regexp_replace(number_part, '^\s*(\+|00)', ''), '\(0\)|[^0-9]', '', 'g') as digits
                    from (
                        select regexp_replace({{ column }}, '\s*(ext\.?|extension|x|#)\s*[0-9]+\s*$', '', 'i') as number_part
                    ) as without_extension
                ) as typed
                cross join lateral (
                    select case
                        when not typed.international then ''
                        when left(typed.digits, 1) in ('1', '7') then left(typed.digits, 1)
                        when left(typed.digits, 2) in ({{ "'" ~ identity_two_digit_country_codes() | join("', '") ~ "'" }}) then left(typed.digits, 2)
                        else left(typed.digits, 3)
                    end as country
                ) as cut
            ) as coded
        ) as national
    )
{%- endmacro %}

{% macro identity_two_digit_country_codes() -%}
    {{ return(['20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47',
               '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65',
               '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98']) }}
{%- endmacro %}
