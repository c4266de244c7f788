-- Revenue per calendar month of the transaction date, before tax: invoices and sales receipts
-- add, credit memos and refund receipts subtract. Accrual basis (invoiced, not cash collected).
{% set documents = [
    ('invoice', 'stg_quickbooks__invoices', 1),
    ('sales_receipt', 'stg_quickbooks__sales_receipts', 1),
    ('credit_memo', 'stg_quickbooks__credit_memos', -1),
    ('refund_receipt', 'stg_quickbooks__refund_receipts', -1),
] %}

with documents as (
    {% for document_type, model, sign in documents %}
    select
        source_relation,
        '{{ document_type }}' as document_type,
        date_trunc('month', transaction_date)::date as revenue_month,
        total_amount - tax_amount as net_amount,
        tax_amount
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

monthly as (
    select
        source_relation,
        revenue_month,
        {% for document_type, model, sign in documents %}
        count(*) filter (where document_type = '{{ document_type }}') as {{ document_type }}_count,
        coalesce(sum(net_amount) filter (where document_type = '{{ document_type }}'), 0) as {{ document_type }}_amount,
        {% endfor %}
        coalesce(sum(tax_amount * case
            {% for document_type, model, sign in documents %}
            when document_type = '{{ document_type }}' then {{ sign }}
            {% endfor %}
        end), 0) as net_tax_amount
    from documents
    group by source_relation, revenue_month
)

select
    source_relation,
    revenue_month,
    {% for document_type, model, sign in documents %}
    {{ document_type }}_count,
    {{ document_type }}_amount,
    {% endfor %}
    invoice_amount + sales_receipt_amount - credit_memo_amount - refund_receipt_amount as net_revenue,
    net_tax_amount
from monthly
