"""QuickBooks end to end: the unmodified tap (through our wrapper) → target-postgres → dbt,
run by Meltano against the sandbox, checked against the sandbox's own books."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest

from incremental import an_hour_passes, assert_a_full_refresh_changes_nothing, incremental_models, inserted_rows
# QuickBooks entity → the tap's stream (= the raw table): one map, kept with the truth checks.
from this_worker import WAREHOUSE
from truth import QUICKBOOKS_START_DATE, QUICKBOOKS_STREAMS as STREAMS, assert_warehouse_matches_truth


def content_checksums(stack) -> dict[str, tuple[int, str]]:
    """Row count and a checksum of every business column (not the loader's _sdc_ columns)."""
    sums = {}
    for stream in [*STREAMS.values(), "deleted_objects", "profit_loss_report", "balance_sheet_report", "vendor_credits",
                   "preferences"]:
        columns = [c for (c,) in stack.sql(
            "select column_name from information_schema.columns where table_schema = 'raw_quickbooks' "
            "and table_name = %s and column_name not like '\\_sdc\\_%%' order by column_name", (stream,))]
        if not columns:
            continue
        cols = ", ".join(f'"{c}"' for c in columns)
        if stream == "profit_loss_report":
            # A P&L lists only the accounts active in the period asked for, so re-pulling a day
            # in another 30-day window adds or drops empty ("") cells: the figures are the same.
            cols = cols.replace('"Details"', """(select jsonb_object_agg(key, value) from jsonb_each("Details")
                                     where value <> '""') as details""")
        sums[stream] = stack.sql(
            f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
            f"from (select {cols} from raw_quickbooks.{stream}) t")[0]
    return sums


@pytest.fixture(scope="module")
def first_run(stack):
    stack.reset()
    result = stack.meltano("run", "quickbooks")
    assert result.ok, result.output[-4000:]
    return stack.sandbox("GET", "/_sandbox/quickbooks/truth")


def test_every_selected_stream_lands_whole(stack, first_run):
    for entity, stream in STREAMS.items():
        loaded = stack.scalar(f"select count(*) from raw_quickbooks.{stream}")
        assert loaded == first_run["counts"][entity], f"{stream}: {loaded} rows, QuickBooks has {first_run['counts'][entity]}"
    assert stack.scalar("select count(*) from raw_quickbooks.profit_loss_report") > 600  # one row a day, ~2 years
    # the company's settings, one row (our wrapper's stream), and its fiscal year read from them
    assert stack.sql("""select "Id", "AccountingInfoPrefs" ->> 'FirstMonthOfFiscalYear', "CurrencyPrefs" -> 'HomeCurrency'
                        from raw_quickbooks.preferences""") == [("1", "January", {"value": "USD"})]
    assert stack.sql("select fiscal_year_start_month, home_currency_code, report_basis "
                     "from staging.stg_quickbooks__preferences") == [(1, "USD", "Accrual")]
    # every row's version, and the daily P&L's every figure, as the books have them
    assert_warehouse_matches_truth("quickbooks")


def test_deletions_are_read_from_the_last_complete_run_on(stack, first_run):
    """QuickBooks' change feed answers at most 1000 objects per entity: each run asks it only for what
    changed since an hour before the last complete read (QuickBooks' clock), not for 29 days, whose
    first 1000 changes of a busy company held no deletion (extract/tap-quickbooks-wrapper, guarded_tap.py)."""
    state = stack.state()
    bookmark = state.get("singer_state", state)["bookmarks"]["deleted_objects"]["LastUpdatedTime"]
    read_from = dt.datetime.fromisoformat(bookmark.replace("Z", "+00:00"))
    now = dt.datetime.fromisoformat(stack.sandbox("GET", "/_sandbox/clock")["sandbox_now"])
    assert now - dt.timedelta(hours=1, minutes=15) < read_from < now - dt.timedelta(hours=1), (bookmark, now)


def test_money_reconciles_with_the_books_to_the_cent(stack, first_run):
    for entity, total in first_run["totals"].items():
        stream = STREAMS.get(entity)
        if stream is None:
            continue
        loaded = stack.scalar(f'select coalesce(sum("TotalAmt"::numeric), 0) from raw_quickbooks.{stream}')
        assert loaded == Decimal(str(total)), f"{stream}: {loaded} != {total}"
    assert stack.scalar("select sum(total_amount) from marts.quickbooks__invoices") == Decimal(str(first_run["invoices_total"]))
    assert stack.scalar("select sum(balance) from marts.quickbooks__invoices") == Decimal(str(first_run["open_ar"]))
    assert stack.scalar("select sum(total_open_balance) from marts.quickbooks__ar_aging") == Decimal(str(first_run["open_ar"]))


def test_profit_and_loss_mart_matches_the_books(stack, first_run):
    rows = stack.sql(
        "select to_char(report_month, 'YYYY-MM'), row_label, amount from marts.quickbooks__profit_and_loss_report "
        "where row_label in ('Total Income', 'Net Income')")
    mart = {(month, label): amount for month, label, amount in rows}
    assert mart, "the P&L mart is empty"
    for month, books in first_run["pl_by_month"].items():
        assert mart.get((month, "Total Income"), Decimal("0")) == Decimal(str(books["income"])), month
        assert mart.get((month, "Net Income"), Decimal("0")) == Decimal(str(books["net_income"])), month


def test_each_months_balance_sheet_is_quickbooks_own_to_the_cent(stack, first_run):
    """balance_sheet_report (our wrapper's stream, QuickBooks' BalanceSheet report): one row per
    month from the tap's start_date to QuickBooks' today; each month since the books began holds
    the report's totals as the ledger adds them up (the sandbox's truth, summed apart from the
    report), as of its last day or today; the months before, QuickBooks has no data for."""
    truth = stack.sandbox("GET", "/_sandbox/quickbooks/truth/balance-sheet")
    rows = stack.sql("""select to_char("ReportDate", 'YYYY-MM'), to_char("AsOfDate", 'YYYY-MM-DD'),
                               "AccountingMethod", "Details"
                        from raw_quickbooks.balance_sheet_report where _sdc_deleted_at is null""")
    loaded = {month: (as_of, method, details) for month, as_of, method, details in rows}
    assert len(loaded) == len(rows), "a month loaded twice"
    month, months = dt.date.fromisoformat(QUICKBOOKS_START_DATE).replace(day=1), []
    while f"{month:%Y-%m}" <= list(truth)[-1]:   # the truth's last month is QuickBooks' today's
        months.append(f"{month:%Y-%m}")
        month = (month + dt.timedelta(days=31)).replace(day=1)
    assert sorted(loaded) == months
    assert set(truth) <= set(months)
    for month in months:
        as_of, method, details = loaded[month]
        assert method == "Accrual"
        if month not in truth:   # before the world's first month: QuickBooks' NoReportData
            assert details == {}, month
            continue
        books = truth[month]
        assert as_of == books["as_of"], month
        for label, key in (("TOTAL ASSETS", "total_assets"), ("TOTAL LIABILITIES AND EQUITY", "total_liabilities_and_equity"),
                           ("Net Income", "net_income")):
            assert Decimal(details[label]) == Decimal(books[key]), f"{month} {label}: {details[label]} != {books[key]}"
    # the ledger's other side: vendor credits land whole too
    counts = stack.sandbox("GET", "/_sandbox/quickbooks/truth")["counts"]
    assert stack.scalar("select count(*) from raw_quickbooks.vendor_credits") == counts["VendorCredit"] > 0


def assert_the_ledger_matches_the_books(stack) -> None:
    """The finance layer (built from the transactions) against the sandbox's books, to the cent:
    the profit and loss of every month, on the accrual and on the cash basis (invoices and bills
    as they are paid), and every month-end balance sheet account by account."""
    truth = stack.sandbox("GET", "/_sandbox/quickbooks/truth")
    for model, books in (("quickbooks__profit_and_loss", truth["pl_by_month"]),
                         ("quickbooks__profit_and_loss_cash_basis", truth["cash_basis_pl_by_month"])):
        rows = stack.sql("select to_char(period_month, 'YYYY-MM'), section, sum(amount), sum(net_income_effect) "
                         f"from marts.{model} group by 1, 2")
        ledger: dict[str, dict[str, Decimal]] = {}
        for month, section, amount, effect in rows:
            figures = ledger.setdefault(month, {"net_income": Decimal(0)})
            figures[section] = amount
            figures["net_income"] += effect
        assert set(ledger) == set(books), (model, set(ledger) ^ set(books))
        for month, figures in books.items():
            for section, key in (("Income", "income"), ("Cost of Goods Sold", "cogs"), ("Expenses", "expenses"),
                                 ("Other Expenses", "other_expenses"), ("net_income", "net_income")):
                assert ledger[month].get(section, Decimal(0)) == Decimal(str(figures[key])), f"{model} {month} {section}"
    assert truth["cash_basis_pl_by_month"] != truth["pl_by_month"]   # unpaid invoices and bills part the two

    balance_sheets = stack.sandbox("GET", "/_sandbox/quickbooks/truth/balance-sheet")
    rows = stack.sql("select to_char(period_month, 'YYYY-MM'), to_char(as_of_date, 'YYYY-MM-DD'), section, row_type, "
                     "account_id, amount from marts.quickbooks__balance_sheet")
    # The ledger's today is the warehouse's (UTC), the books' the company's: for some hours a day
    # the ledger is a day ahead, and on the first of a month it has that month more (no postings).
    utc_today = dt.datetime.now(dt.timezone.utc).date()
    assert set(balance_sheets) <= {month for month, *_ in rows} <= set(balance_sheets) | {f"{utc_today:%Y-%m}"}
    for month, books in balance_sheets.items():
        mine = [row for row in rows if row[0] == month]
        if (dt.date.fromisoformat(books["as_of"]) + dt.timedelta(days=1)).day == 1:   # ended, not still going
            assert {as_of for _, as_of, *_ in mine} == {books["as_of"]}, month
        accounts = {account: amount for _, _, _, _, account, amount in mine if account and amount}
        assert accounts == {account: Decimal(amount) for account, amount in books["accounts"].items() if Decimal(amount)}, month
        assert sum(amount for _, _, section, *_, amount in mine if section == "Assets") == Decimal(books["total_assets"])
        assert sum(amount for _, _, section, *_, amount in mine if section != "Assets") == \
            Decimal(books["total_liabilities_and_equity"])
        assert sum(amount for *_, row_type, _, amount in mine if row_type == "net_income") == Decimal(books["net_income"])


def test_the_ledger_matches_the_books(stack, first_run):
    assert_the_ledger_matches_the_books(stack)


def test_euro_forms_settle_at_their_own_rate_and_the_difference_is_a_realized_gain_or_loss(stack, first_run):
    """The company has multicurrency on and trades in euros (the sandbox's project_foreign_currency):
    its euro invoices and bills post to the euro A/R and A/P at their own rate, and each payment
    takes them off at that rate, so what the euro A/R holds is exactly the open invoices' home
    balances, and the rate a payment came in at is a realized gain or loss in the P&L."""
    assert stack.sql("select home_currency_code, is_multicurrency_enabled from staging.stg_quickbooks__preferences") \
        == [("USD", True)]
    accounts = dict(stack.sql("select account_sub_type || ':' || currency_code, account_id from staging.stg_quickbooks__accounts "
                              "where currency_code = 'EUR' or account_sub_type = 'ExchangeGainOrLoss'"))
    assert stack.sql("select currency_code, receivable_account_id, payable_account_id "
                     "from intermediate.int_quickbooks__currency_accounts") == [
        ("EUR", accounts["AccountsReceivable:EUR"], accounts["AccountsPayable:EUR"])]
    # what the euro A/R and A/P hold today: the open euro invoices and bills, at their own rate
    open_home = dict(stack.sql("""select 'AccountsReceivable', sum(home_balance) from marts.quickbooks__invoices
                                  where currency_code = 'EUR'
                                  union all
                                  select 'AccountsPayable', sum(home_balance) from staging.stg_quickbooks__bills
                                  where currency_code = 'EUR'"""))
    assert open_home["AccountsReceivable"] > 0 and open_home["AccountsPayable"] > 0
    for kind, sign in (("AccountsReceivable", 1), ("AccountsPayable", -1)):
        balance = stack.scalar("select sum(amount) from marts.quickbooks__general_ledger where account_id = %s",
                               (accounts[f"{kind}:EUR"],))
        assert sign * balance == open_home[kind], kind
    # the agings, in euros and in dollars, as QuickBooks states the open forms' balances
    # (an invoice paid in two parts may leave its rounding cent on the A/R, not in the aging)
    for aging, table in (("ar_aging", "invoices"), ("ap_aging", "bills")):
        assert stack.sql(f"select currency_code, sum(total_open_balance), sum(total_open_home_balance) "
                         f"from marts.quickbooks__{aging} where currency_code <> 'USD' group by 1") == stack.sql(
            f"""select "CurrencyRef" ->> 'value', sum("Balance"::numeric), sum("HomeBalance"::numeric)
                from raw_quickbooks.{table}
                where "CurrencyRef" ->> 'value' <> 'USD' and "Balance"::numeric > 0 group by 1"""), aging
    # every euro payment's gain or loss, and nothing else, in Exchange Gain or Loss: the books' figure
    gains = stack.sql("select transaction_type, count(*), sum(amount) from marts.quickbooks__general_ledger "
                      "where account_id = %s group by 1 order by 1", (accounts["ExchangeGainOrLoss:USD"],))
    assert [kind for kind, *_ in gains] == ["BillPayment", "Payment"] and all(n > 5 for _, n, _ in gains)
    books = sum(Decimal(str(month["other_expenses"])) for month in first_run["pl_by_month"].values())
    assert sum(amount for *_, amount in gains) == books != 0


def test_a_euro_invoices_corrected_rate_moves_the_gain_of_the_payments_that_settled_it(stack, first_run):
    """A bookkeeper corrects the rate of a paid euro invoice. The load brings the invoice only, but
    its payments' postings change too: each takes its part of the invoice off the euro A/R at the
    invoice's rate, so its realized gain or loss moves by what that part's home amount moved. The
    scheduled build makes those payments again (a changed form names the payments applied to it);
    the ledger matches the books, and a full refresh gives the same rows. (The last paid invoice
    is a month or two old: inside the days the reports are read again, so they carry it too.)"""
    invoice_id, rate = stack.sql("""select invoice_id, exchange_rate from staging.stg_quickbooks__invoices
                                    where currency_code = 'EUR' and balance = 0
                                    order by transaction_date desc limit 1""")[0]
    parts = stack.sql("""select payment_id, amount from staging.stg_quickbooks__payment_lines
                         where linked_transaction_type = 'Invoice' and linked_transaction_id = %s""", (invoice_id,))

    def gains() -> dict[str, Decimal]:    # a payment at its invoice's own rate gains nothing: no posting
        posted = dict(stack.sql("select transaction_id, amount from marts.quickbooks__general_ledger "
                                "where transaction_type = 'Payment' and transaction_id = any(%s) "
                                "and posting_key = 'exchange_gain_or_loss'", ([payment for payment, _ in parts],)))
        return {payment: posted.get(payment, Decimal(0)) for payment, _ in parts}

    def home(amount: Decimal, at: Decimal) -> Decimal:
        return (amount * at).quantize(Decimal("0.01"), ROUND_HALF_UP)

    before, new_rate = gains(), rate + Decimal("0.0500")
    total = stack.scalar("select total_amount from staging.stg_quickbooks__invoices where invoice_id = %s", (invoice_id,))
    stack.sandbox("POST", "/_sandbox/quickbooks/edit", {"entity": "Invoice", "ids": [invoice_id], "rows": [
        {"ExchangeRate": float(new_rate), "HomeTotalAmt": float(home(total, new_rate))}]})
    result = stack.meltano("run", "quickbooks")
    assert result.ok, result.output[-4000:]
    assert gains() == {payment: before[payment] + home(amount, new_rate) - home(amount, rate) for payment, amount in parts}
    assert_the_ledger_matches_the_books(stack)
    assert_a_full_refresh_changes_nothing(stack, "quickbooks", 12)


def test_invoice_lines_keep_bundles_and_half_hours_as_quickbooks_sends_them(stack, first_run):
    """Every item line of every invoice, a bundle's components in its place, with the quantity
    QuickBooks sent: 1.5 hours stay 1.5 (the tap's own catalog typed quantities as integers, which
    its Transformer truncates), and a bundle's components each land as a line of their own."""
    books = stack.sandbox("GET", "/_sandbox/quickbooks/truth/invoice-lines")
    expected = sorted((invoice_id, line["item"], Decimal(str(line["qty"])), Decimal(str(line["amount"])), line["bundle"] or "")
                      for invoice_id, lines in books.items() for line in lines)
    landed = sorted(stack.sql("""select invoice_id, item_id, quantity, amount, coalesce(bundle_item_id, '')
                                 from staging.stg_quickbooks__invoice_lines where detail_type = 'SalesItemLineDetail'"""))
    assert [tuple(row) for row in landed] == expected
    assert any(bundle for *_, bundle in expected) and any(qty % 1 for _, _, qty, _, _ in expected)


def test_a_second_run_with_no_change_changes_no_row(stack, first_run):
    before = content_checksums(stack)
    result = stack.meltano("run", "tap-quickbooks", "target-postgres")
    assert result.ok, result.output[-4000:]
    assert content_checksums(stack) == before


def test_changes_in_quickbooks_arrive_exactly(stack, first_run):
    changes = stack.sandbox("POST", "/_sandbox/quickbooks/mutate", {"seed": 7, "new": 4, "updated": 4, "deleted": 3})["changes"]
    assert {c["kind"] for c in changes} >= {"new", "updated", "deleted"}
    result = stack.meltano("run", "quickbooks")
    assert result.ok, result.output[-4000:]
    truth = stack.sandbox("GET", "/_sandbox/quickbooks/truth")

    for change in changes:
        stream = STREAMS[change["entity"]]
        staged = stack.sql(f'select "SyncToken" from raw_quickbooks.{stream} where "Id" = %s', (change["Id"],))
        if change["kind"] == "deleted":
            assert stack.scalar(
                'select count(*) from raw_quickbooks.deleted_objects where "Id" = %s and "Type" = %s',
                (change["Id"], change["entity"])) == 1, change
        else:
            assert staged, f"{change} did not arrive"
    assert_warehouse_matches_truth("quickbooks")   # the re-read P&L days carry the changes too
    # deletions applied downstream: staging and marts agree with QuickBooks again
    assert stack.scalar("select count(*) from staging.stg_quickbooks__invoices") == truth["counts"]["Invoice"]
    assert stack.scalar("select sum(balance) from marts.quickbooks__invoices") == Decimal(str(truth["open_ar"]))
    # the line tables, built incrementally, dropped the deleted transactions' lines: they hold what a
    # full rebuild gives
    deleted_invoices = [c["Id"] for c in changes if c["kind"] == "deleted" and c["entity"] == "Invoice"]
    assert stack.scalar("select count(*) from staging.stg_quickbooks__invoice_lines where invoice_id = any(%s)",
                        (deleted_invoices,)) == 0
    assert stack.scalar("select count(*) from marts.quickbooks__general_ledger "
                        "where transaction_type = 'Invoice' and transaction_id = any(%s)", (deleted_invoices,)) == 0
    assert_the_ledger_matches_the_books(stack)   # new, changed and deleted transactions, every month after them
    assert_a_full_refresh_changes_nothing(stack, "quickbooks", 12)


def test_an_items_new_cost_moves_the_cost_of_its_past_sales(stack, first_run):
    """A sale's postings follow its item: the item's accounts and purchase cost. When a bookkeeper
    corrects an item's cost, the next scheduled build moves the cost of every past sale of it, not
    only of the transactions loaded since (the postings table is built incrementally, and the
    items' rules are part of what it was built from); a full refresh gives the same rows."""
    item_id, cost, raw_cost = stack.sql("""
        select items.item_id, items.purchase_cost, raw."PurchaseCost"
        from staging.stg_quickbooks__items as items join raw_quickbooks.items as raw on raw."Id" = items.item_id
        where items.item_type = 'Inventory' and items.purchase_cost > 0
            and exists (select from staging.stg_quickbooks__invoice_lines as lines where lines.item_id = items.item_id)
        order by items.item_id limit 1""")[0]

    def costs_of_its_sales() -> list[tuple[Decimal, Decimal]]:
        return stack.sql("""
            select lines.quantity, postings.amount
            from staging.stg_quickbooks__invoice_lines as lines
            join intermediate.int_quickbooks__postings as postings
                on postings.transaction_type = 'Invoice' and postings.transaction_id = lines.invoice_id
                and postings.posting_key = 'line-' || lines.line_position || coalesce('.' || lines.component_position, '') || '-cost'
            where lines.item_id = %s and postings.exchange_rate is null""", (item_id,))

    def at(unit_cost: Decimal, quantity: Decimal) -> Decimal:
        return (quantity * unit_cost).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")

    before = costs_of_its_sales()
    assert before and all(amount == at(cost, quantity) for quantity, amount in before)
    new_cost = cost + Decimal("1.25")
    try:
        # as a load of the corrected item leaves it (the loader's stamp is not what the build goes by)
        stack.sql('update raw_quickbooks.items set "PurchaseCost" = %s where "Id" = %s returning 1', (str(new_cost), item_id))
        result = stack.meltano("invoke", "dbt:build_quickbooks")
        assert "int_quickbooks__postings" in result.output, result.output[-3000:]
        after = costs_of_its_sales()
        assert len(after) == len(before) and all(amount == at(new_cost, quantity) for quantity, amount in after)
        assert_a_full_refresh_changes_nothing(stack, "quickbooks", 12)
    finally:
        stack.sql('update raw_quickbooks.items set "PurchaseCost" = %s where "Id" = %s returning 1', (raw_cost, item_id))
        assert stack.meltano("invoke", "dbt:build_quickbooks").ok
    assert costs_of_its_sales() == before


def test_a_load_between_the_line_tables_and_the_postings_is_built_again(stack, first_run):
    """A load that lands after a build made the line tables and before it makes the postings
    (another company's job, a hand run): the postings pair the invoice's new header with its old
    lines, so they carry no stamp, and the next build makes them again with both, instead of
    taking them for built from that load."""
    invoice_id = stack.scalar("select invoice_id from staging.stg_quickbooks__invoices order by invoice_id limit 1")

    def unstamped_and_all() -> tuple[int, int]:
        return tuple(stack.sql("select count(*) filter (where _loaded_at is null), count(*) "
                               "from intermediate.int_quickbooks__postings "
                               "where transaction_type = 'Invoice' and transaction_id = %s", (invoice_id,))[0])

    assert unstamped_and_all()[0] == 0 < unstamped_and_all()[1]
    # the invoice loaded again (as the loader leaves a row it writes: a newer stamp), after the line
    # tables: newer than every load the postings hold, so the build's watermark (the newest less
    # incremental_late_minutes) is behind it however long the earlier tests took
    stack.sql("update raw_quickbooks.invoices set _sdc_batched_at = "
              "(select max(_loaded_at) from intermediate.int_quickbooks__postings) + interval '1 second' "
              'where "Id" = %s returning 1', (invoice_id,))
    postings_only = stack.meltano("invoke", "dbt", "run", "--select", "int_quickbooks__postings")
    assert postings_only.ok, postings_only.output[-3000:]
    assert unstamped_and_all()[0] == unstamped_and_all()[1] > 0
    result = stack.meltano("invoke", "dbt:build_quickbooks")
    assert result.ok, result.output[-3000:]
    assert unstamped_and_all()[0] == 0 < unstamped_and_all()[1]
    assert_a_full_refresh_changes_nothing(stack, "quickbooks", 12)


def test_a_hostile_transaction_id_is_built_and_deleted_like_any_other(stack, first_run):
    """The postings' build writes changed ids into its query as constants: an id with quotes, a
    backslash and 300 characters is data there too. A copy of an invoice under such an id gets the
    same postings as the invoice, and its deletion removes them."""
    hostile_id = "7'); drop table raw_quickbooks.invoices; --\\\"" + "9" * 300
    original_id = stack.scalar("select invoice_id from staging.stg_quickbooks__invoices order by invoice_id limit 1")

    def postings(invoice_id: str) -> list[tuple]:
        return stack.sql("select posting_key, account_id, amount from intermediate.int_quickbooks__postings "
                         "where transaction_type = 'Invoice' and transaction_id = %s order by posting_key",
                         (invoice_id,))

    def build_the_postings() -> None:
        result = stack.meltano("invoke", "dbt", "run", "--select", "+int_quickbooks__postings")
        assert result.ok, result.output[-3000:]

    stack.sql("""insert into raw_quickbooks.invoices
                 select (jsonb_populate_record(null::raw_quickbooks.invoices, to_jsonb(invoice) || jsonb_build_object(
                     'Id', %s::text, 'DocNumber', 'HOSTILE-1',
                     '_sdc_batched_at', (select max(_sdc_batched_at) from raw_quickbooks.invoices) + interval '1 second'))).*
                 from raw_quickbooks.invoices as invoice where "Id" = %s returning 1""", (hostile_id, original_id))
    build_the_postings()
    assert stack.scalar("select count(*) from raw_quickbooks.invoices") > 1   # the table is still there
    assert postings(hostile_id) == postings(original_id) != []
    # deleted in QuickBooks: the loader marks the row, and the next build removes its postings
    stack.sql("""update raw_quickbooks.invoices set _sdc_deleted_at = (select max(_sdc_batched_at)
                 from raw_quickbooks.invoices) + interval '2 seconds' where "Id" = %s returning 1""", (hostile_id,))
    build_the_postings()
    assert postings(hostile_id) == []
    stack.sql('delete from raw_quickbooks.invoices where "Id" = %s returning 1', (hostile_id,))
    assert_a_full_refresh_changes_nothing(stack, "quickbooks", 12)


def test_a_company_without_its_preferences_stops_the_build_before_the_balance_sheet(stack, first_run):
    """The balance sheet closes each fiscal year in the month the company's preferences name. Without
    them (an upgraded warehouse whose company's job has not run since), the build stops at the
    trial balance's test naming what is missing, and the last balance sheet stays; the company's
    next run loads them again."""
    def balance_sheet() -> tuple:
        return tuple(stack.sql("select count(*), md5(string_agg(b::text, '|' order by b::text)) "
                               "from marts.quickbooks__balance_sheet as b")[0])

    before = balance_sheet()
    stack.sql("with gone as (delete from raw_quickbooks.preferences returning 1) select count(*) from gone")
    stopped = stack.meltano("invoke", "dbt:build_quickbooks")
    assert not stopped.ok
    assert "every_quickbooks_company_has_its_preferences_loaded" in stopped.output, stopped.output[-3000:]
    assert re.search(r"SKIP relation marts\.quickbooks__balance_sheet\b", stopped.output), stopped.output[-3000:]
    assert balance_sheet() == before
    rerun = stack.meltano("run", "quickbooks")
    assert rerun.ok, rerun.output[-3000:]
    assert stack.scalar("select fiscal_year_start_month from staging.stg_quickbooks__preferences") == 1
    assert balance_sheet() == before


@pytest.mark.slow  # two more job runs; the full-refresh check is in make test too
def test_a_daily_build_unnests_only_the_changed_transactions(stack, first_run):
    """The line tables rebuild the transactions the loader wrote (or QuickBooks reported deleted)
    since the last build: not the books' history, and not again the transactions the build before
    built, though they lie within the late window's two minutes."""
    raw = [table for (table,) in stack.sql("select table_name from information_schema.tables "
                                           "where table_schema = 'raw_quickbooks'")]
    an_hour_passes(stack, [*((f"raw_quickbooks.{table}", column) for table in raw
                             for column in ("_sdc_batched_at", "_sdc_deleted_at")),
                           *((model, "_loaded_at") for model in incremental_models(stack, "quickbooks"))])
    lines_before = stack.scalar("select count(*) from staging.stg_quickbooks__invoice_lines")
    built_before = None
    for seed in (11, 12):
        built_before = stack.scalar("select max(_loaded_at) from staging.stg_quickbooks__invoice_lines")
        stack.sandbox("POST", "/_sandbox/quickbooks/mutate", {"seed": seed, "new": 2, "updated": 2, "deleted": 1})
        result = stack.meltano("run", "quickbooks")
        assert result.ok, result.output[-4000:]
    reloaded_lines = stack.scalar("""select count(*) from staging.stg_quickbooks__invoice_lines
                                     where _loaded_at > (now() at time zone 'UTC') - interval '30 minutes'""")
    loaded_by_the_last_run = stack.scalar("select count(*) from staging.stg_quickbooks__invoice_lines "
                                          "where _loaded_at > %s", (built_before,))
    assert 0 < inserted_rows(result.output, "stg_quickbooks__invoice_lines") == loaded_by_the_last_run < reloaded_lines
    assert reloaded_lines < lines_before / 4
    # the postings too: the last run's transactions (each one's postings and one placeholder row)
    postings_of_the_last_run = stack.scalar("select count(*) + count(distinct (transaction_type, transaction_id)) "
                                            "from intermediate.int_quickbooks__postings where _loaded_at > %s",
                                            (built_before,))
    assert 0 < postings_of_the_last_run <= inserted_rows(result.output, "int_quickbooks__postings", "intermediate") \
        < postings_of_the_last_run + 10   # + the deleted transactions' placeholders
    assert_a_full_refresh_changes_nothing(stack, "quickbooks", 12)


@pytest.mark.slow  # two more builds
def test_a_line_table_built_by_older_code_stops_the_build_naming_it_until_a_full_refresh(stack, first_run):
    """An upgrade that adds columns to an incremental line table (component_position and
    bundle_item_id did): the scheduled build stops, naming the model and dbt's "out of sync",
    instead of building on a table of the old shape; the one command the README gives rebuilds it,
    and the rows are whole again."""
    expected = stack.scalar("select count(*) from staging.stg_quickbooks__invoice_lines")
    with psycopg.connect(**WAREHOUSE, autocommit=True) as conn:   # as the older code built it
        conn.execute("alter table staging.stg_quickbooks__invoice_lines drop column component_position cascade, "
                     "drop column bundle_item_id cascade")
    stopped = stack.meltano("invoke", "dbt:build_quickbooks")
    assert not stopped.ok
    assert "stg_quickbooks__invoice_lines" in stopped.output and "out of sync" in stopped.output, stopped.output[-3000:]
    rebuilt = stack.meltano("invoke", "dbt:build_quickbooks", "--full-refresh")
    assert rebuilt.ok, rebuilt.output[-4000:]
    assert stack.scalar("select count(*) from staging.stg_quickbooks__invoice_lines") == expected
    assert_the_ledger_matches_the_books(stack)
