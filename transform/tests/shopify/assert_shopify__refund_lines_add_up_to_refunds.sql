{{ config(severity='warn') }}
-- Each refund's items (what was paid for them, plus their tax) make up the refund's total.
-- A warning, not an error: a real refund may also pay back shipping or carry an order
-- adjustment (refundShippingLines, orderAdjustments), which the tap does not extract; such a
-- refund shows here with the difference, and is correct.
with refund_lines as (
    select source_relation, refund_id, sum(subtotal + tax_amount) as lines_total
    from {{ ref('stg_shopify__refund_lines') }}
    group by source_relation, refund_id
)

select refunds.source_relation, refunds.order_id, refunds.refund_id, refunds.total_refunded, coalesce(refund_lines.lines_total, 0) as lines_total
from {{ ref('stg_shopify__refunds') }} as refunds
left join refund_lines
    on refunds.source_relation = refund_lines.source_relation and refunds.refund_id = refund_lines.refund_id
where refunds.total_refunded <> coalesce(refund_lines.lines_total, 0)
