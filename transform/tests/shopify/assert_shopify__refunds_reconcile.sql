-- Every refund is paid out by its transactions and every order's amount refunded is the sum of
-- its refunds, to the cent. Only successful REFUND transactions move money (a failed or
-- pending one does not); the order's list of transactions is where they are read from.
with orders as (
    select source_relation, order_id, total_refunded from {{ ref('stg_shopify__orders') }}
),

refunds as (
    select source_relation, refund_id, order_id, total_refunded from {{ ref('stg_shopify__refunds') }}
),

refund_transactions as (
    select source_relation, order_id, refund_id, amount
    from {{ ref('stg_shopify__transactions') }}
    where kind = 'REFUND' and status = 'SUCCESS'
),

per_refund as (
    select
        refunds.source_relation,
        refunds.order_id,
        refunds.refund_id,
        refunds.total_refunded as refund_total,
        coalesce(sum(refund_transactions.amount), 0) as transactions_total
    from refunds
    left join refund_transactions
        on refunds.source_relation = refund_transactions.source_relation
        and refunds.refund_id = refund_transactions.refund_id
    group by refunds.source_relation, refunds.order_id, refunds.refund_id, refunds.total_refunded
),

per_order as (
    select
        orders.source_relation,
        orders.order_id,
        orders.total_refunded,
        (select coalesce(sum(refund_total), 0) from per_refund
            where per_refund.source_relation = orders.source_relation and per_refund.order_id = orders.order_id)
            as refunds_total,
        (select coalesce(sum(amount), 0) from refund_transactions
            where refund_transactions.source_relation = orders.source_relation
            and refund_transactions.order_id = orders.order_id)
            as transactions_total
    from orders
)

select 'refund' as level, source_relation, order_id, refund_id, refund_total as stated, transactions_total as computed
from per_refund
where refund_total <> transactions_total

union all

select 'order (refunds)', source_relation, order_id, null, total_refunded, refunds_total
from per_order
where total_refunded <> refunds_total

union all

select 'order (transactions)', source_relation, order_id, null, total_refunded, transactions_total
from per_order
where total_refunded <> transactions_total
