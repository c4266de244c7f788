-- Each month's counts and amounts in the revenue mart equal the staged documents of that month.
{% set documents = [
    ('invoice', 'stg_quickbooks__invoices'),
    ('sales_receipt', 'stg_quickbooks__sales_receipts'),
    ('credit_memo', 'stg_quickbooks__credit_memos'),
    ('refund_receipt', 'stg_quickbooks__refund_receipts'),
] %}

with staged as (
    {% for document_type, model in documents %}
    select
        source_relation,
        '{{ document_type }}' as document_type,
        date_trunc('month', transaction_date)::date as revenue_month,
        count(*) as document_count,
        sum(total_amount - tax_amount) as amount
    from {{ ref(model) }}
    group by 1, 3
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

mart as (
    {% for document_type, model in documents %}
    select
        source_relation,
        '{{ document_type }}' as document_type,
        revenue_month,
        {{ document_type }}_count as document_count,
        {{ document_type }}_amount as amount
    from {{ ref('quickbooks__revenue_by_month') }}
    where {{ document_type }}_count > 0
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    coalesce(mart.source_relation, staged.source_relation) as source_relation,
    coalesce(mart.document_type, staged.document_type) as document_type,
    coalesce(mart.revenue_month, staged.revenue_month) as revenue_month,
    mart.document_count as mart_count,
    staged.document_count as staged_count,
    mart.amount as mart_amount,
    staged.amount as staged_amount
from mart
full outer join staged
    on mart.source_relation = staged.source_relation
    and mart.document_type = staged.document_type
    and mart.revenue_month = staged.revenue_month
where mart.document_count is distinct from staged.document_count
    or mart.amount is distinct from staged.amount
