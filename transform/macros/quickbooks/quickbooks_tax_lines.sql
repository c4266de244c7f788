{#
    A form's tax by rate: TxnTaxDetail.TaxLine as a JSON array of {position, tax_rate_id, amount}
    (its position in the list, TaxLineDetail.TaxRateRef, Amount), the postings' way to each
    agency's liability (quickbooks_tax_postings). An empty array when QuickBooks sends no tax lines.
#}
{% macro quickbooks_tax_lines(tax_detail) -%}
    coalesce((
        select jsonb_agg(jsonb_build_object(
                   'position', tax_line.position,
                   'tax_rate_id', {{ quickbooks_ref_id("tax_line.item", "-> 'TaxLineDetail' -> 'TaxRateRef'") }},
                   'amount', {{ quickbooks_money("tax_line.item ->> 'Amount'") }})
               order by tax_line.position)
        from jsonb_array_elements(
            case when jsonb_typeof({{ tax_detail }} -> 'TaxLine') = 'array' then {{ tax_detail }} -> 'TaxLine' end
        ) with ordinality as tax_line(item, position)
    ), '[]'::jsonb)
{%- endmacro %}
