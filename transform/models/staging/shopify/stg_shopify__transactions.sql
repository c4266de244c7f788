-- Every payment transaction of an order (sales, captures, refunds, voids, failed attempts).
-- The order's "transactions" list holds them all, refunds' included; a refund's own
-- transactions list names which refund a REFUND transaction belongs to.
with transactions as (
    {{ shopify_order_elements('transactions') }}
),

refund_transactions as (
    select
        refunds.source_relation,
        refunds.element ->> 'id' as refund_gid,
        refund_transaction.element ->> 'id' as transaction_gid
    from ({{ shopify_order_elements('refunds') }}) as refunds
    cross join lateral jsonb_array_elements(
        coalesce(refunds.element -> 'transactions', '[]'::jsonb)
    ) as refund_transaction(element)
),

renamed as (
    select
        transactions.source_relation,
        {{ shopify_gid_to_id("transactions.element ->> 'id'") }} as transaction_id,
        transactions.element ->> 'id' as transaction_gid,
        transactions.order_id,
        {{ shopify_gid_to_id('refund_transactions.refund_gid') }} as refund_id,
        {{ shopify_gid_to_id("transactions.element -> 'parentTransaction' ->> 'id'") }} as parent_transaction_id,
        transactions.position as transaction_position,
        transactions.element ->> 'kind' as kind,
        transactions.element ->> 'status' as status,
        transactions.element ->> 'gateway' as gateway,
        transactions.element ->> 'errorCode' as error_code,
        coalesce((transactions.element ->> 'test')::boolean, false) as is_test,
        {{ shopify_money("transactions.element -> 'amountSet'") }} as amount,
        transactions.order_currency_code as currency_code,
        {{ shopify_json_timestamp("transactions.element ->> 'createdAt'") }} as created_at,
        {{ shopify_json_timestamp("transactions.element ->> 'processedAt'") }} as processed_at,
        transactions._sdc_batched_at as _loaded_at
    from transactions
    left join refund_transactions
        on transactions.source_relation = refund_transactions.source_relation
        and transactions.element ->> 'id' = refund_transactions.transaction_gid
)

select * from renamed
