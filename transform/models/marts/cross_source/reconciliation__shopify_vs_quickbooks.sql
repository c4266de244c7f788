-- One row per business and day with shop activity in either system (a business's shops against
-- its books, macros/instances.sql): Shopify's sales and refunds
-- beside what the books recorded for them. The books take the shop as one SalesReceipt per day
-- (the payout, DocNumber SHOP-YYYYMMDD) and one RefundReceipt per refunded order (REF-<order
-- number>), so each day's figures should agree to the cent; a difference is flagged.
with orders as (
    select * from {{ ref('shopify__orders') }}
    where not is_test and not is_cancelled
),

refunds as (
    select * from {{ ref('stg_shopify__refunds') }}
),

sales_receipts as (
    select * from {{ ref('stg_quickbooks__sales_receipts') }}
    where doc_number like 'SHOP-%'
),

refund_receipts as (
    select * from {{ ref('stg_quickbooks__refund_receipts') }}
    where doc_number like 'REF-%'
),

shop_sales as (
    select
        {{ business_of('source_relation') }} as business,
        {{ cross_source_business_date('created_at') }} as business_date,
        count(*) as shopify_order_count,
        sum(total_price) as shopify_sales
    from orders
    group by 1, 2
),

shop_refunds as (
    select
        {{ business_of('source_relation') }} as business,
        {{ cross_source_business_date('created_at') }} as business_date,
        count(*) as shopify_refund_count,
        sum(total_refunded) as shopify_refunds
    from refunds
    group by 1, 2
),

book_sales as (
    select
        {{ business_of('source_relation') }} as business,
        transaction_date as business_date,
        count(*) as quickbooks_sales_receipt_count,
        sum(total_amount) as quickbooks_sales
    from sales_receipts
    group by 1, 2
),

book_refunds as (
    select
        {{ business_of('source_relation') }} as business,
        transaction_date as business_date,
        count(*) as quickbooks_refund_receipt_count,
        sum(total_amount) as quickbooks_refunds
    from refund_receipts
    group by 1, 2
),

days as (
    select business, business_date from shop_sales
    union
    select business, business_date from shop_refunds
    union
    select business, business_date from book_sales
    union
    select business, business_date from book_refunds
),

compared as (
    select
        days.business,
        days.business_date,
        coalesce(shop_sales.shopify_order_count, 0) as shopify_order_count,
        coalesce(shop_sales.shopify_sales, 0) as shopify_sales,
        coalesce(book_sales.quickbooks_sales_receipt_count, 0) as quickbooks_sales_receipt_count,
        coalesce(book_sales.quickbooks_sales, 0) as quickbooks_sales,
        coalesce(shop_refunds.shopify_refund_count, 0) as shopify_refund_count,
        coalesce(shop_refunds.shopify_refunds, 0) as shopify_refunds,
        coalesce(book_refunds.quickbooks_refund_receipt_count, 0) as quickbooks_refund_receipt_count,
        coalesce(book_refunds.quickbooks_refunds, 0) as quickbooks_refunds
    from days
    left join shop_sales on days.business = shop_sales.business and days.business_date = shop_sales.business_date
    left join shop_refunds on days.business = shop_refunds.business and days.business_date = shop_refunds.business_date
    left join book_sales on days.business = book_sales.business and days.business_date = book_sales.business_date
    left join book_refunds on days.business = book_refunds.business and days.business_date = book_refunds.business_date
)

select
    *,
    shopify_sales - quickbooks_sales as sales_difference,
    shopify_refunds - quickbooks_refunds as refunds_difference,
    shopify_sales <> quickbooks_sales as is_sales_mismatch,
    shopify_refunds <> quickbooks_refunds as is_refunds_mismatch
from compared
