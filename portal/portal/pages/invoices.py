"""Dues invoices, their payments and the organisation's credit.

The member reads them; the secretariat (who alone may, as the API decides) records a payment
received against an invoice that is still open. An overpayment becomes credit (the API's rule).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal import member
from portal.api import api_of
from portal.sessions import User
from portal.web import ApiProblem, lang_of, page_router, redirect, register_nav, render, require_user

router = page_router()
MESSAGES = member.catalogue(
    {
        "en": {
            "title": "Invoices and payments",
            "intro": "The organisation's yearly dues: each invoice, the payments received and what is still due.",
            "currency_note": "Amounts in yuan (CNY).",
            "credit": "Credit on account",
            "credit_hint": "Overpayments are kept as credit and taken off the next invoice.",
            "none": "No dues invoices have been issued yet.",
            "invoice": "Invoice",
            "period": "Period",
            "fee": "Fee",
            "credit_applied": "Credit applied",
            "amount": "Amount",
            "outstanding": "Still due",
            "issued_on": "Issued",
            "due_on": "Due by",
            "status": "Status",
            "payments": "Payments received",
            "no_payments": "No payment received yet.",
            "received_on": "Received on",
            "method": "Method",
            "reference": "Reference",
            "record": "Record a payment",
            "record_button": "Record the payment",
            "recorded": "The payment was recorded.",
            "status.open": "Open",
            "status.partially_paid": "Partly paid",
            "status.paid": "Paid",
            "status.cancelled": "Cancelled",
            "method.bank_transfer": "Bank transfer",
            "method.cash": "Cash",
            "method.cheque": "Cheque",
        },
        "zh": {
            "title": "账单与付款",
            "intro": "本单位的年度会费：每张账单、已收款项及尚欠金额。",
            "currency_note": "金额单位：人民币元。",
            "credit": "账户余额",
            "credit_hint": "多付的款项计入余额，从下一张账单中抵扣。",
            "none": "尚未开具会费账单。",
            "invoice": "账单",
            "period": "会籍期",
            "fee": "会费",
            "credit_applied": "抵扣余额",
            "amount": "应付金额",
            "outstanding": "尚欠",
            "issued_on": "开具日期",
            "due_on": "到期日",
            "status": "状态",
            "payments": "已收款项",
            "no_payments": "尚未收到付款。",
            "received_on": "收款日期",
            "method": "方式",
            "reference": "付款凭证号",
            "record": "登记付款",
            "record_button": "登记",
            "recorded": "付款已登记。",
            "status.open": "未付",
            "status.partially_paid": "部分已付",
            "status.paid": "已付清",
            "status.cancelled": "已作废",
            "method.bank_transfer": "银行转账",
            "method.cash": "现金",
            "method.cheque": "支票",
        },
    }
)
METHODS = ("bank_transfer", "cash", "cheque")
register_nav("/invoices", "Invoices", "账单", member.member_or_staff, order=22)


def may_record(user: User) -> bool:
    return user.has_any("secretariat")


async def _page(
    request: Request,
    user: User,
    org_id: str | None,
    paying: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: ApiProblem | None = None,
) -> HTMLResponse:
    choice = await member.org_choice(request) if user.is_staff else None
    if org_id is None:
        return render(request, "invoices/index.html", MESSAGES, choice=choice, org=None, chosen="")
    org = await member.organisation(request, org_id)
    dues: dict[str, Any] = await api_of(request).get(request, f"/api/v1/membership/organisations/{org_id}/invoices")
    invoices = sorted(dues.get("invoices", []), key=lambda i: str(i.get("issued_on")), reverse=True)
    today = datetime.now(UTC).date().isoformat()
    return render(
        request,
        "invoices/index.html",
        MESSAGES,
        status_code=422 if errors or problem else 200,
        choice=choice,
        chosen=org_id,
        org=org,
        credit=dues.get("credit", "0.00"),
        invoices=invoices,
        record=may_record(user),
        methods=METHODS,
        paying=paying,
        values=values or {"received_on": today, "method": "bank_transfer"},
        errors=errors or {},
        problem=problem,
        recorded=request.query_params.get("recorded") == "1",
    )


@router.get("/invoices", response_class=HTMLResponse)
async def invoices(request: Request) -> HTMLResponse:
    user = require_user(request)
    return await _page(request, user, member.org_id_in_view(request, user))


@router.post("/invoices/payments", response_class=HTMLResponse)
async def record_payment(request: Request) -> Response:
    user = require_user(request)
    form = await request.form()
    org_id = member.form_text(form, "org") if user.is_staff else user.org_id
    invoice_id = member.form_text(form, "invoice_id")
    if not org_id or not invoice_id:
        return redirect("/invoices")
    values = {name: member.form_text(form, name) for name in ("amount", "received_on", "method", "reference")}
    lang = lang_of(request)
    errors = {name: MESSAGES.get(lang, "m.required") for name in ("amount", "received_on") if not values[name]}
    if errors:
        return await _page(request, user, org_id, invoice_id, values, errors)
    body: dict[str, Any] = {
        "amount": values["amount"],
        "received_on": values["received_on"],
        "method": values["method"] or "bank_transfer",
        **({"reference": values["reference"]} if values["reference"] else {}),
    }
    path = f"/api/v1/membership/organisations/{org_id}/invoices/{invoice_id}/payments"
    try:
        await api_of(request).post(request, path, body)
    except ApiProblem as problem:
        return await _page(request, user, org_id, invoice_id, values, dict(problem.errors), problem)
    return redirect("/invoices?" + urlencode({"org": org_id, "recorded": "1"}))
