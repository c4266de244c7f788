{#
    The finance layer's double entry (models/intermediate/quickbooks/finance/): each transaction
    type's model turns its transactions into postings, one row per account a transaction moves,
    all with the columns below. `amount` is a debit when positive and a credit when negative, in
    the company's home currency; a transaction's postings sum to zero (tested).

    Home currency: a transaction in another currency carries its ExchangeRate (home units per
    unit of the transaction's currency); its amounts are multiplied by it and rounded to the cent,
    the transaction's own amount kept beside it. Home-currency transactions have no rate: 1.
#}
{% macro quickbooks_home_amount(amount, exchange_rate) -%}
    round(({{ amount }}) * coalesce({{ exchange_rate }}, 1), 2)
{%- endmacro %}

{#
    The end of every posting model: the posting columns, in order, from `relation` (the type's
    postings in their own currency, with their transaction's `_loaded_at`). A foreign-currency
    transaction's postings are converted one by one, each rounded to the cent, so they can miss
    zero by a cent (three lines of 1.05 EUR at 1.1 are 1.16 each, 3.48, against 3.47 for their
    total): its counter posting (`balancing_key`: `total`) takes the difference, as QuickBooks' own
    home-currency total does, and the transaction balances. A payment's balancing posting is its
    exchange gain or loss (quickbooks_settlement_postings).
#}
{% macro quickbooks_postings_from(relation, balancing_key='total') %}
{%- set home_amount = quickbooks_home_amount('transaction_amount', 'exchange_rate') %}
select * from (
    select
        source_relation,
        transaction_type || ':' || transaction_id || ':' || posting_key as posting_id,
        transaction_type,
        transaction_id,
        posting_key,
        transaction_date,
        doc_number,
        account_id,
        case
            when posting_key = '{{ balancing_key }}' and exchange_rate is not null
                then {{ home_amount }} - sum({{ home_amount }}) over (partition by source_relation, transaction_id)
            else {{ home_amount }}
        end as amount,
        transaction_amount,
        coalesce(currency_code, 'home') as transaction_currency,
        exchange_rate,
        customer_id,
        vendor_id,
        class_id,
        department_id,
        description,
        _loaded_at
    from {{ relation }}
) as postings
{%- if balancing_key != 'total' %}
-- a balancing posting with nothing to balance (a payment at its forms' own rate) is no posting
where not (posting_key = '{{ balancing_key }}' and coalesce(amount, 1) = 0)
{%- endif %}
{% endmacro %}

{#
    A filter on a transaction type's headers or lines (their columns `source_relation` and
    `id_column`): the transactions `changed` names (quickbooks_changed_transactions: by type, then
    company, a list of ids), or every transaction when `changed` is none. The ids are written into
    the query as constants, so PostgreSQL takes the filter down to the raw table's primary key
    beneath the staging view; a join to a list of ids would read every transaction first.
#}
{% macro quickbooks_only_changed(changed, transaction_type, id_column) -%}
    {%- if changed is none -%}
        true
    {%- elif not changed.get(transaction_type) -%}
        false
    {%- else -%}
        (
        {%- for company, ids in changed[transaction_type].items() | sort %}
        {% if not loop.first %}or {% endif %}(source_relation = {{ quickbooks_literal(company) }}
            and {{ id_column }} = any(array[{% for id in ids %}{{ quickbooks_literal(id) }}{{ ', ' if not loop.last }}{% endfor %}]))
        {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{# A text value as an SQL literal (a vendor's id is data: any quote in it is doubled). #}
{% macro quickbooks_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#
    A transaction's stamp on its postings (`_loaded_at`, what quickbooks_changed_transactions
    compares with the raw row's): its header's load, when its lines, from a line table built earlier
    in the same build, come from that same load; else none, and the next build makes its postings
    again. (A load that lands between the line table's build and the postings' would otherwise
    pair a new header with old lines, or none, under the new header's stamp, never to be redone.)
    `line_stamps`: the lines' load per transaction (quickbooks_line_stamps), joined as such.
#}
{% macro quickbooks_postings_stamp(headers_alias) -%}
    case when line_stamps.lines_loaded_at = {{ headers_alias }}._loaded_at then {{ headers_alias }}._loaded_at end
{%- endmacro %}

{# Each transaction's lines' load, from a line table's rows `lines_relation`, for quickbooks_postings_stamp. #}
{% macro quickbooks_line_stamps(lines_relation, id_column) -%}
    select source_relation, {{ id_column }}, max(_loaded_at) as lines_loaded_at
    from {{ lines_relation }}
    group by source_relation, {{ id_column }}
{%- endmacro %}

{# The transaction types the ledger holds, each with its raw table (its entity name is the type). #}
{% macro quickbooks_posting_tables() -%}
    {{ return({
        'Invoice': 'invoices', 'SalesReceipt': 'sales_receipts', 'CreditMemo': 'credit_memos',
        'RefundReceipt': 'refund_receipts', 'Payment': 'payments', 'Deposit': 'deposits', 'Bill': 'bills',
        'BillPayment': 'bill_payments', 'Purchase': 'purchases', 'VendorCredit': 'vendor_credits',
        'JournalEntry': 'journal_entries', 'Transfer': 'transfers',
    }) }}
{%- endmacro %}

{#
    What a scheduled build of int_quickbooks__postings makes again, read before the build's query
    is written: the transactions the loader wrote or QuickBooks deleted since the table's watermark
    (macros/incremental/incremental.sql), less those the table already built from that very load
    (the postings keep their transaction's `_loaded_at`), and the payments applied to a changed
    form (a payment in a foreign currency reads its forms' rates), as {type: {company: [ids]}}. None when
    every transaction is to be built: a full build, the table's code or posting rules changed
    (config inputs_digest), or more than `limit` transactions changed, where one pass over all of
    them costs less than a filter naming each.
#}
{% macro quickbooks_changed_transactions(limit=10000) -%}
    {%- set watermark = incremental_watermark_value() if execute and is_incremental() else none -%}
    {%- if watermark is none -%}{{ return(none) }}{%- endif -%}
    {%- set query -%}
        with changed as (
        {%- for transaction_type, table_name in quickbooks_posting_tables().items() %}
            {{ 'union all' if not loop.first }}
            select '{{ transaction_type }}' as transaction_type, source_relation, "Id" as transaction_id
            from ({{ quickbooks_changed_ids(table_name, transaction_type, built_id_column='transaction_id',
                                            type_column='transaction_type',
                                            since="'" ~ watermark ~ "'::timestamp") }}) as changed
        {%- endfor %}
        )

        select * from changed
        {%- for payment_type, settlement in quickbooks_settlements().items() %}
        union
        -- a payment in a foreign currency settles its forms at their rates: a changed form, its payments
        select '{{ payment_type }}', lines.source_relation, lines.{{ settlement['id_column'] }}
        from {{ ref(settlement['lines_model']) }} as lines
        inner join changed
            on changed.transaction_type in ('{{ settlement['forms'] | join("', '") }}')
            and lines.linked_transaction_type = changed.transaction_type
            and lines.source_relation = changed.source_relation
            and lines.linked_transaction_id = changed.transaction_id
        {%- endfor %}
        limit {{ limit + 1 }}
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length > limit -%}{{ return(none) }}{%- endif -%}
    {%- set changed = {} -%}
    {%- for transaction_type, company, transaction_id in rows -%}
        {%- do changed.setdefault(transaction_type, {}).setdefault(company, []).append(transaction_id) -%}
    {%- endfor -%}
    {{ return(changed) }}
{%- endmacro %}

{#
    The rules every posting follows beyond its own transaction, as one digest (int_quickbooks__postings'
    inputs_digest): each item's type, accounts and purchase cost, and the accounts QuickBooks posts
    to unnamed (a foreign currency's A/R and A/P, each tax agency's among them). An item moved
    to another income account changes the postings of every sale of it, so a change here rebuilds
    the table; a sale, a stock count or a price change does not.
#}
{% macro quickbooks_posting_rules_digest() %}
    select md5(
        coalesce((select string_agg(row(source_relation, item_id, item_type, income_account_id,
                                        expense_account_id, asset_account_id, purchase_cost)::text, ','
                                    order by source_relation, item_id)
                  from {{ ref('stg_quickbooks__items') }}), '')
        || ';' || coalesce((select string_agg(default_accounts::text, ',' order by source_relation)
                            from {{ ref('int_quickbooks__default_accounts') }} as default_accounts), '')
        || ';' || coalesce((select string_agg(currency_accounts::text, ',' order by source_relation, currency_code)
                            from {{ ref('int_quickbooks__currency_accounts') }} as currency_accounts), '')
        || ';' || coalesce((select string_agg(tax_accounts::text, ',' order by source_relation, tax_rate_id)
                            from {{ ref('int_quickbooks__tax_accounts') }} as tax_accounts), '')
    )
{% endmacro %}

{#
    A form's tax, by agency: the tax at each rate whose agency keeps its own liability account
    (int_quickbooks__tax_accounts, the CTE `tax_accounts`) to that account, one posting per tax
    line (`tax-N`), if the form was entered once the account was open (as QuickBooks posted it);
    the rest of the form's total tax (all of it, where no rate's agency has an account of its own,
    or QuickBooks sends no tax lines) to the company's sales tax account (`tax`), so the tax
    postings always add up to TotalTax. `headers` has tax_amount, tax_lines
    (quickbooks_tax_lines) and created_at; `sign` multiplies the tax (a sale credits it).
#}
{% macro quickbooks_tax_postings(headers, id_column, sign) %}
    {%- set owed_to_agencies -%}
        select tax_line.position, tax_line.amount, tax_accounts.payable_account_id
        from jsonb_to_recordset({{ headers }}.tax_lines)
            as tax_line(position integer, tax_rate_id text, amount numeric)
        inner join tax_accounts
            on {{ headers }}.source_relation = tax_accounts.source_relation
            and tax_line.tax_rate_id = tax_accounts.tax_rate_id
            and coalesce({{ headers }}.created_at >= tax_accounts.account_opened_at, true)
    {%- endset %}
    -- the tax at a rate whose agency keeps its own account
    select
        {{ headers }}.source_relation,
        {{ headers }}.{{ id_column }} as transaction_id,
        'tax-' || owed.position as posting_key,
        owed.payable_account_id as account_id,
        {{ sign }} * owed.amount as transaction_amount
    from {{ headers }}
    cross join lateral ({{ owed_to_agencies }}) as owed
    where owed.amount <> 0

    union all

    -- the rest, to the company's sales tax account
    select
        {{ headers }}.source_relation,
        {{ headers }}.{{ id_column }},
        'tax',
        default_accounts.sales_tax_account_id,
        {{ sign }} * ({{ headers }}.tax_amount - coalesce(owed.amount, 0))
    from {{ headers }}
    left join default_accounts using (source_relation)
    left join lateral (select sum(amount) as amount from ({{ owed_to_agencies }}) as owed_lines) as owed on true
    where {{ headers }}.tax_amount - coalesce(owed.amount, 0) <> 0
{% endmacro %}

{#
    Sales forms (Invoice, SalesReceipt, CreditMemo, RefundReceipt): each item line credits its
    income account; an inventory item also moves its cost from the inventory asset to cost of
    goods sold (quantity × the item's purchase cost: QuickBooks itself values it FIFO, which the
    API does not expose; in the home currency, so a sale in another currency posts it at a rate
    of 1); a discount line debits the discount account; the tax credits the sales tax
    liability, each agency's own (quickbooks_tax_postings); the total is the counter posting
    (A/R, or the account the money went to; a form in a foreign currency goes to that currency's
    A/R, `currency_accounts`);
    `has_deposit`: an invoice's deposit (paid in part when invoiced) moves that much from A/R to
    the account it went to. `sign` 1 for a sale, -1 for its reversal (credit memo, refund).
#}
{% macro quickbooks_sales_form_postings(transaction_type, headers_model, lines_model, id_column, sign, counter_account, has_deposit=false, changed=none) %}
with headers as (
    select * from {{ ref(headers_model) }}
    where {{ quickbooks_only_changed(changed, transaction_type, id_column) }}
),

lines as (
    select * from {{ ref(lines_model) }}
    where {{ quickbooks_only_changed(changed, transaction_type, id_column) }}
),

items as (
    select * from {{ ref('stg_quickbooks__items') }}
),

default_accounts as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

currency_accounts as (
    select * from {{ ref('int_quickbooks__currency_accounts') }}
),

tax_accounts as (
    select * from {{ ref('int_quickbooks__tax_accounts') }}
),

line_postings as (
    -- the income (or discount) line itself
    select
        lines.source_relation,
        lines.{{ id_column }} as transaction_id,
        'line-' || lines.line_position || coalesce('.' || lines.component_position, '') as posting_key,
        case lines.detail_type
            when 'DiscountLineDetail' then lines.discount_account_id
            else coalesce(lines.item_account_id, items.income_account_id)
        end as account_id,
        case lines.detail_type
            when 'DiscountLineDetail' then ({{ sign }}) * lines.amount
            else -({{ sign }}) * lines.amount
        end as transaction_amount,
        false as is_at_home_value,
        lines.class_id,
        lines.description
    from lines
    left join items
        on lines.source_relation = items.source_relation
        and lines.item_id = items.item_id
    where lines.detail_type in ('SalesItemLineDetail', 'DiscountLineDetail')
        and lines.amount <> 0

    union all

    -- an inventory item's cost: out of the asset, into cost of goods sold
    select
        lines.source_relation,
        lines.{{ id_column }},
        'line-' || lines.line_position || coalesce('.' || lines.component_position, '') || '-' || cost.side,
        case cost.side when 'cost' then items.expense_account_id else items.asset_account_id end,
        case cost.side when 'cost' then 1 else -1 end * ({{ sign }}) * round(lines.quantity * items.purchase_cost, 2),
        true,   -- the item's cost is in the home currency already, whatever the sale's
        lines.class_id,
        lines.description
    from lines
    inner join items
        on lines.source_relation = items.source_relation
        and lines.item_id = items.item_id
    cross join (values ('cost'), ('inventory')) as cost(side)
    where lines.detail_type = 'SalesItemLineDetail'
        and items.item_type = 'Inventory'
        and round(lines.quantity * items.purchase_cost, 2) <> 0
),

header_postings as (
    {{ quickbooks_tax_postings('headers', id_column, '-(' ~ sign ~ ')') }}

    union all

    select
        headers.source_relation,
        headers.{{ id_column }},
        'total',
        {{ counter_account }},
        ({{ sign }}) * headers.total_amount
    from headers
    left join default_accounts using (source_relation)
    left join currency_accounts
        on headers.source_relation = currency_accounts.source_relation
        and headers.currency_code = currency_accounts.currency_code
    {%- if has_deposit %}

    union all

    -- paid in part when invoiced (the invoice's Deposit): into that account, off the receivable
    select
        headers.source_relation,
        headers.{{ id_column }},
        sides.posting_key,
        case sides.posting_key when 'deposit' then headers.deposit_to_account_id else {{ counter_account }} end,
        sides.posting_sign * ({{ sign }}) * headers.deposit_amount
    from headers
    left join default_accounts using (source_relation)
    left join currency_accounts
        on headers.source_relation = currency_accounts.source_relation
        and headers.currency_code = currency_accounts.currency_code
    cross join (values ('deposit', 1), ('deposit_received', -1)) as sides(posting_key, posting_sign)
    where coalesce(headers.deposit_amount, 0) <> 0
    {%- endif %}
),

postings as (
    select
        postings.source_relation,
        '{{ transaction_type }}' as transaction_type,
        postings.transaction_id,
        postings.posting_key,
        headers.transaction_date,
        headers.doc_number,
        postings.account_id,
        postings.transaction_amount,
        headers.currency_code,
        case when headers.exchange_rate is not null and postings.is_at_home_value then 1 else headers.exchange_rate end
            as exchange_rate,
        headers.customer_id,
        null::text as vendor_id,
        coalesce(postings.class_id, headers.class_id) as class_id,
        headers.department_id,
        postings.description,
        {{ quickbooks_postings_stamp('headers') }} as _loaded_at
    from (
        select * from line_postings
        union all
        select source_relation, transaction_id, posting_key, account_id, transaction_amount, false, null, null
        from header_postings
    ) as postings
    inner join headers
        on postings.source_relation = headers.source_relation
        and postings.transaction_id = headers.{{ id_column }}
    left join ({{ quickbooks_line_stamps('lines', id_column) }}) as line_stamps
        on headers.source_relation = line_stamps.source_relation
        and headers.{{ id_column }} = line_stamps.{{ id_column }}
)

{{ quickbooks_postings_from('postings') }}
{% endmacro %}

{#
    Which payment settles which forms, in one place: for each payment type, its staging models
    and id column, and the forms its lines apply to, {linked type: (staging model, id column,
    sign)}: a credit memo or vendor credit the payment uses counts the other way (-1). Read by
    the settlement postings, by quickbooks_changed_transactions (a changed form rebuilds its
    payments) and by the cash-basis P&L (a form counts as its payments settle it).
#}
{% macro quickbooks_settlements() -%}
    {{ return({
        'Payment': {
            'headers_model': 'stg_quickbooks__payments', 'lines_model': 'stg_quickbooks__payment_lines',
            'id_column': 'payment_id',
            'forms': {'Invoice': ('stg_quickbooks__invoices', 'invoice_id', 1),
                      'CreditMemo': ('stg_quickbooks__credit_memos', 'credit_memo_id', -1)}},
        'BillPayment': {
            'headers_model': 'stg_quickbooks__bill_payments', 'lines_model': 'stg_quickbooks__bill_payment_lines',
            'id_column': 'bill_payment_id',
            'forms': {'Bill': ('stg_quickbooks__bills', 'bill_id', 1),
                      'VendorCredit': ('stg_quickbooks__vendor_credits', 'vendor_credit_id', -1)}},
    }) }}
{%- endmacro %}

{#
    The forms the payments of `transaction_type` that `changed` names apply to, read before the
    build's query is written (as quickbooks_changed_transactions), as {form type: {company: [ids]}}:
    quickbooks_settlement_postings reads those forms' rates alone, by id, where a join would read
    every form. None when every payment is built (`changed` none).
#}
{% macro quickbooks_settled_forms(changed, transaction_type, lines_model, id_column) -%}
    {%- if changed is none or not execute -%}{{ return(none) }}{%- endif -%}
    {%- if not changed.get(transaction_type) -%}{{ return({}) }}{%- endif -%}
    {%- set query -%}
        select linked_transaction_type, source_relation, linked_transaction_id
        from {{ ref(lines_model) }}
        where {{ quickbooks_only_changed(changed, transaction_type, id_column) }}
            and linked_transaction_id is not null
    {%- endset -%}
    {%- set settled = {} -%}
    {%- for form_type, company, form_id in run_query(query).rows -%}
        {%- do settled.setdefault(form_type, {}).setdefault(company, []).append(form_id) -%}
    {%- endfor -%}
    {{ return(settled) }}
{%- endmacro %}

{#
    Payments: a customer's (sign 1: money in, off A/R) or a bill payment (-1: money out, off A/P).
    The money (posting `money_key`) into or out of `money_account`, the whole amount off the open
    account (`open_key`, `open_account`), applied to forms or not. A payment in a foreign currency
    takes the money at its own rate, but each form it applies to comes off the open account at
    that form's rate, the one it went on at (`open_key`-N, its Nth line; a credit memo or vendor
    credit it uses, the other way: quickbooks_settlements), and
    what it leaves unapplied at its own; the difference is the realized exchange gain or loss
    (exchange_gain_or_loss, to the company's Exchange Gain or Loss account), as QuickBooks posts
    it. `money_account` and `open_account` are expressions of `headers`, `default_accounts` and
    `currency_accounts` (the accounts of the payment's currency).
#}
{% macro quickbooks_settlement_postings(transaction_type, sign, money_key, open_key, money_account, open_account, doc_number, customer_id, vendor_id, department_id, changed=none) %}
{%- set settlement = quickbooks_settlements()[transaction_type] %}
{%- set headers_model, lines_model, id_column = settlement['headers_model'], settlement['lines_model'], settlement['id_column'] %}
{%- set settled_forms = quickbooks_settled_forms(changed, transaction_type, lines_model, id_column) %}
with payments as (
    select * from {{ ref(headers_model) }}
    where {{ quickbooks_only_changed(changed, transaction_type, id_column) }}
),

lines as (
    select * from {{ ref(lines_model) }}
    where {{ quickbooks_only_changed(changed, transaction_type, id_column) }}
),

default_accounts as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

currency_accounts as (
    select * from {{ ref('int_quickbooks__currency_accounts') }}
),

-- each payment with the accounts it moves
headers as (
    select
        headers.*,
        {{ money_account }} as money_account_id,
        {{ open_account }} as open_account_id,
        default_accounts.exchange_gain_or_loss_account_id
    from payments as headers
    left join default_accounts
        on headers.source_relation = default_accounts.source_relation
    left join currency_accounts
        on headers.source_relation = currency_accounts.source_relation
        and headers.currency_code = currency_accounts.currency_code
),

-- the rates of the forms the payments apply to (a scheduled build: of those alone, by id)
forms as (
    {%- for form_type, (model, form_id, form_sign) in settlement['forms'].items() %}
    {{ 'union all' if not loop.first }}
    select source_relation, '{{ form_type }}' as form_type, {{ form_id }} as form_id, {{ form_sign }} as form_sign,
        exchange_rate
    from {{ ref(model) }}
    where {{ quickbooks_only_changed(settled_forms, form_type, form_id) }}
    {%- endfor %}
),

-- a foreign-currency payment's lines, each in the sign of the form it applies to, at its rate
settled_at_form_rates as (
    select
        lines.source_relation,
        lines.{{ id_column }} as transaction_id,
        lines.line_position,
        forms.form_sign * lines.amount as amount,
        coalesce(forms.exchange_rate, headers.exchange_rate) as exchange_rate
    from lines
    inner join headers
        on lines.source_relation = headers.source_relation
        and lines.{{ id_column }} = headers.{{ id_column }}
    inner join forms
        on lines.source_relation = forms.source_relation
        and lines.linked_transaction_type = forms.form_type
        and lines.linked_transaction_id = forms.form_id
    where headers.exchange_rate is not null
        and lines.amount <> 0
),

settled_in_total as (
    select source_relation, transaction_id, sum(amount) as amount
    from settled_at_form_rates
    group by source_relation, transaction_id
),

postings as (
    -- the money, at the payment's rate
    select
        source_relation,
        {{ id_column }} as transaction_id,
        '{{ money_key }}' as posting_key,
        money_account_id as account_id,
        ({{ sign }}) * total_amount as transaction_amount,
        exchange_rate
    from headers
    where total_amount <> 0

    union all

    -- each form a foreign-currency payment applies to, off the open account at the form's rate
    select
        settled.source_relation,
        settled.transaction_id,
        '{{ open_key }}-' || settled.line_position,
        headers.open_account_id,
        -({{ sign }}) * settled.amount,
        settled.exchange_rate
    from settled_at_form_rates as settled
    inner join headers
        on settled.source_relation = headers.source_relation
        and settled.transaction_id = headers.{{ id_column }}

    union all

    -- the rest off the open account at the payment's rate: the whole amount, in the home currency
    select
        headers.source_relation,
        headers.{{ id_column }},
        '{{ open_key }}',
        headers.open_account_id,
        -({{ sign }}) * (headers.total_amount - coalesce(settled_in_total.amount, 0)),
        headers.exchange_rate
    from headers
    left join settled_in_total
        on headers.source_relation = settled_in_total.source_relation
        and headers.{{ id_column }} = settled_in_total.transaction_id
    where headers.total_amount - coalesce(settled_in_total.amount, 0) <> 0

    union all

    -- what balances the rates apart: the realized exchange gain (a credit) or loss (a debit)
    select source_relation, {{ id_column }}, 'exchange_gain_or_loss', exchange_gain_or_loss_account_id, 0, exchange_rate
    from headers
    where exchange_rate is not null
),

described as (
    select
        postings.source_relation,
        '{{ transaction_type }}' as transaction_type,
        postings.transaction_id,
        postings.posting_key,
        headers.transaction_date,
        {{ doc_number }} as doc_number,
        postings.account_id,
        postings.transaction_amount,
        headers.currency_code,
        postings.exchange_rate,
        {{ customer_id }} as customer_id,
        {{ vendor_id }} as vendor_id,
        null::text as class_id,
        {{ department_id }} as department_id,
        headers.private_note as description,
        -- a home-currency payment's postings are its header's alone (QuickBooks names no rate for
        -- it); a foreign one's read its lines, built earlier in the build (one with no lines at
        -- all, wholly unapplied, is made again by each build that reads its load)
        case
            when headers.exchange_rate is null then headers._loaded_at
            else {{ quickbooks_postings_stamp('headers') }}
        end as _loaded_at
    from postings
    inner join headers
        on postings.source_relation = headers.source_relation
        and postings.transaction_id = headers.{{ id_column }}
    left join ({{ quickbooks_line_stamps('lines', id_column) }}) as line_stamps
        on headers.source_relation = line_stamps.source_relation
        and headers.{{ id_column }} = line_stamps.{{ id_column }}
)

{{ quickbooks_postings_from('described', balancing_key='exchange_gain_or_loss') }}
{% endmacro %}

{#
    Purchase forms (Bill, Purchase, VendorCredit): each line debits its account (an item line the
    item's inventory asset, or its expense account); the total is the counter posting (A/P, or the
    bank or card that paid; a bill in a foreign currency that names no A/P account goes to that
    currency's, `currency_accounts`). `sign` 1 for a purchase, -1 for its reversal (vendor credit, a card
    refund); an expression of the header's columns (`headers.…`) where it depends on them.
#}
{% macro quickbooks_expense_form_postings(transaction_type, headers_model, lines_model, id_column, sign, counter_account, vendor_id='headers.vendor_id', has_tax=true, changed=none) %}
with headers as (
    select * from {{ ref(headers_model) }}
    where {{ quickbooks_only_changed(changed, transaction_type, id_column) }}
),

lines as (
    select * from {{ ref(lines_model) }}
    where {{ quickbooks_only_changed(changed, transaction_type, id_column) }}
),

items as (
    select * from {{ ref('stg_quickbooks__items') }}
),

default_accounts as (
    select * from {{ ref('int_quickbooks__default_accounts') }}
),

currency_accounts as (
    select * from {{ ref('int_quickbooks__currency_accounts') }}
),

signed_headers as (
    select headers.*, ({{ sign }}) as posting_sign
    from headers
),
{%- if has_tax %}

tax_accounts as (
    select * from {{ ref('int_quickbooks__tax_accounts') }}
),
{%- endif %}

postings as (
    select
        lines.source_relation,
        lines.{{ id_column }} as transaction_id,
        'line-' || lines.line_position as posting_key,
        coalesce(
            lines.account_id,
            case when items.item_type = 'Inventory' then items.asset_account_id else items.expense_account_id end
        ) as account_id,
        signed_headers.posting_sign * lines.amount as transaction_amount,
        lines.class_id,
        lines.description
    from lines
    inner join signed_headers
        on lines.source_relation = signed_headers.source_relation
        and lines.{{ id_column }} = signed_headers.{{ id_column }}
    left join items
        on lines.source_relation = items.source_relation
        and lines.item_id = items.item_id
    where lines.amount <> 0

    {%- if has_tax %}

    union all

    -- tax tracked on purchases (where the company reclaims it): a debit to the tax account
    select tax_postings.*, null, null
    from ({{ quickbooks_tax_postings('signed_headers', id_column, 'signed_headers.posting_sign') }}) as tax_postings
    {%- endif %}

    union all

    select
        signed_headers.source_relation,
        signed_headers.{{ id_column }},
        'total',
        {{ counter_account }},
        -signed_headers.posting_sign * signed_headers.total_amount,
        null,
        null
    from signed_headers
    left join default_accounts using (source_relation)
    left join currency_accounts
        on signed_headers.source_relation = currency_accounts.source_relation
        and signed_headers.currency_code = currency_accounts.currency_code
),

described as (
    select
        postings.source_relation,
        '{{ transaction_type }}' as transaction_type,
        postings.transaction_id,
        postings.posting_key,
        headers.transaction_date,
        headers.doc_number,
        postings.account_id,
        postings.transaction_amount,
        headers.currency_code,
        headers.exchange_rate,
        null::text as customer_id,
        {{ vendor_id }} as vendor_id,
        postings.class_id,
        headers.department_id,
        postings.description,
        {{ quickbooks_postings_stamp('headers') }} as _loaded_at
    from postings
    inner join headers
        on postings.source_relation = headers.source_relation
        and postings.transaction_id = headers.{{ id_column }}
    left join ({{ quickbooks_line_stamps('lines', id_column) }}) as line_stamps
        on headers.source_relation = line_stamps.source_relation
        and headers.{{ id_column }} = line_stamps.{{ id_column }}
)

{{ quickbooks_postings_from('described') }}
{% endmacro %}

{# Which statement an account's balance belongs to, by QuickBooks' account type. #}
{% macro quickbooks_financial_statement(account_type) -%}
    case
        when {{ account_type }} in ('Income', 'Other Income', 'Cost of Goods Sold', 'Expense', 'Other Expense')
            then 'profit_and_loss'
        else 'balance_sheet'
    end
{%- endmacro %}
