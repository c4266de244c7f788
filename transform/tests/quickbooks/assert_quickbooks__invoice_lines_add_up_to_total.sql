-- Unnesting lost no line: item lines less discounts plus tax give each invoice's total. A bundle's
-- components are item lines of their own (its GroupLineDetail row is not counted), so an invoice
-- selling a bundle adds up only if every component was unnested.
with lines as (
    select
        source_relation,
        invoice_id,
        sum(case detail_type
            when 'SalesItemLineDetail' then amount
            when 'DiscountLineDetail' then -amount
            else 0
        end) as lines_amount
    from {{ ref('stg_quickbooks__invoice_lines') }}
    group by source_relation, invoice_id
)

select invoices.source_relation, invoices.invoice_id, invoices.total_amount, invoices.tax_amount, lines.lines_amount
from {{ ref('stg_quickbooks__invoices') }} as invoices
left join lines
    on invoices.source_relation = lines.source_relation
    and invoices.invoice_id = lines.invoice_id
where invoices.total_amount <> coalesce(lines.lines_amount, 0) + invoices.tax_amount
