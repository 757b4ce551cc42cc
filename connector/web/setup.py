"""``/setup``: the wizard a business owner follows to connect Xero or QuickBooks, and ``/oauth/callback``.

A thin shell over :mod:`connector.actions.connections`: each view reads a form, calls one
action and renders the result or the action's message. The steps:

1. ``/setup``: choose Xero or QuickBooks;
2. ``POST /setup/consent``: off to the provider's consent page (state, PKCE for Xero);
3. ``/oauth/callback``: the provider sends the browser back; the code becomes tokens;
4. ``/setup/organisations``: tick the organisations (Xero) or confirm the company (QuickBooks);
5. ``/setup/<id>/accounts``: clearing, bank and fee accounts, read live (or create clearing);
6. ``/setup/<id>/settings``: how money is collected;
7. ``/setup/<id>/import``: the first import in the background, with a progress bar that works
   without JavaScript (the page reloads itself) and with it (``static/setup.js`` reads
   ``/setup/<id>/progress.json``); it survives a reload, since progress is read from the sync run.

Only admins may connect. The callback is reachable without the admin check because the person
arrives from the provider; it trusts nothing but the single-use ``state`` bound to this
browser's session, which the action checks.
"""

from __future__ import annotations

import logging
import secrets
import threading

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from connector.actions import ActionError
from connector.actions import connections as actions
from connector.actions.sync import run_sync
from connector.web.context import runtime
from connector.web.guard import actor, requires
from connector.web.settings_form import settings_form

bp = Blueprint("setup", __name__)
log = logging.getLogger("connector.web.setup")

#: The wizard's steps as the person sees them (the callback is not a step they notice).
STEPS = ("Ledger", "Allow access", "Organisation", "Accounts", "Collection", "First import")


def browser_id() -> str:
    """A random id for this browser, kept in its (signed, HttpOnly) session cookie: a consent's
    ``state`` is bound to it, so a link carried to another browser completes nothing."""
    if not session.get("browser"):
        session["browser"] = secrets.token_urlsafe(24)
    return str(session["browser"])


# --- 1 and 2: choose, then consent ----------------------------------------------------------------


def _choose_page(error: str | None = None) -> str:
    """Step 1: which ledger; a provider without an app in the config is offered but says so."""
    rt = runtime()
    configured = {p: bool(getattr(rt.config.ledgers, p).client_id) for p in actions.PROVIDERS}
    return render_template(
        "setup/choose.html",
        title="Connect your books",
        step=1,
        steps=STEPS,
        configured=configured,
        unfinished=actions.in_setup(rt),
        error=error,
    )


@bp.route("/setup")
@requires("admin")
def choose() -> str:
    return _choose_page()


@bp.route("/setup/consent", methods=["POST"])
@requires("admin")
def consent() -> Response | tuple[str, int]:
    provider = request.form.get("provider", "")
    try:
        start = actions.begin_consent(runtime(), provider, browser=browser_id(), actor=actor())
    except ActionError as exc:
        return _choose_page(exc.message), 400
    return redirect(start.url, code=303)


# --- 3: the provider sends the browser back -------------------------------------------------------


@bp.route("/oauth/callback")
def callback() -> Response:
    args = request.args
    try:
        done = actions.complete_consent(
            runtime(),
            state=args.get("state"),
            browser=session.get("browser"),
            code=args.get("code"),
            error=args.get("error"),
            realm_id=args.get("realmId"),
        )
    except ActionError as exc:
        flash(exc.message, "error")
        return redirect(url_for("setup.choose"))
    if done.purpose == "reconnect":
        flash("Reconnected. Its history is kept, and syncing goes on from where it stopped.", "ok")
        return redirect(url_for("connections.index"))
    session["setup_request"] = done.request_id
    return redirect(url_for("setup.organisations"))


callback.public_reason = (  # type: ignore[attr-defined]
    "the provider sends the browser here; the single-use state bound to this browser is the check"
)


# --- 4: organisations ------------------------------------------------------------------------------


@bp.route("/setup/organisations", methods=["GET", "POST"])
@requires("admin")
def organisations() -> Response | str | tuple[str, int]:
    rt = runtime()
    request_id = session.get("setup_request")
    if not isinstance(request_id, int):
        flash("Start by choosing your accounting software.", "warning")
        return redirect(url_for("setup.choose"))
    provider, found = actions.consent_organisations(rt, request_id, browser_id())
    errors: dict[str, str] = {}
    if request.method == "POST":
        ticked = request.form.getlist("tenant") if provider == "xero" else [found[0].tenant_id] if found else []
        chosen = {t: request.form.get(f"name-{t}", "") for t in ticked}
        try:
            made = actions.choose_organisations(rt, request_id, browser_id(), chosen, actor=actor())
        except actions.FieldErrors as exc:
            errors = exc.errors
        else:
            session.pop("setup_request", None)
            return redirect(url_for("setup.accounts", connection_id=made[0]))
    page = render_template(
        "setup/organisations.html",
        title="Choose the organisation",
        step=3,
        steps=STEPS,
        provider=provider,
        provider_name=actions.PROVIDERS[provider],
        organisations=found,
        form=request.form,
        errors=errors,
    )
    return (page, 400) if errors else page


# --- 5: accounts -----------------------------------------------------------------------------------


@bp.route("/setup/<int:connection_id>/accounts", methods=["GET", "POST"])
@requires("admin")
def accounts(connection_id: int) -> Response | str | tuple[str, int]:
    rt = runtime()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            actions.save_accounts(
                rt,
                connection_id,
                clearing=request.form.get("clearing", ""),
                bank=request.form.get("bank", ""),
                fees=request.form.get("fees", ""),
                actor=actor(),
            )
        except actions.FieldErrors as exc:
            errors = exc.errors
        else:
            return redirect(url_for("setup.settings", connection_id=connection_id))
    view = actions.chart_of_accounts(rt, connection_id)
    chosen = _preselect(view)
    chosen.update({k: v for k, v in request.values.items() if k in ("clearing", "bank", "fees") and v})
    page = render_template(
        "setup/accounts.html",
        title="Choose accounts",
        step=4,
        steps=STEPS,
        view=view,
        chosen=chosen,
        errors=errors,
        has_clearing_name=any(a.name.lower() == actions.CLEARING_NAME.lower() for a in view.accounts),
        clearing_name=actions.CLEARING_NAME,
    )
    return (page, 400) if errors else page


@bp.route("/setup/<int:connection_id>/accounts/clearing", methods=["POST"])
@requires("admin")
def create_clearing(connection_id: int) -> Response:
    made, created = actions.create_clearing_account(runtime(), connection_id, actor=actor())
    if created:
        flash(f"Created the account “{made.name}” in your books. It is chosen below as the clearing account.", "ok")
    else:
        flash(f"Your books already have “{made.name}”: it is chosen below as the clearing account.", "ok")
    return redirect(url_for("setup.accounts", connection_id=connection_id, clearing=made.ref))


def _preselect(view: actions.AccountsView) -> dict[str, str]:
    """What the form starts with: the saved choice, else the likeliest account for each role."""
    chosen = dict(view.chosen)
    usable = {
        role: [a for a in view.for_role(role) if not a.problem and a.currency == view.base_currency]
        for role in ("clearing", "bank", "fees")
    }
    if "clearing" not in chosen:
        named = [a for a in usable["clearing"] if "clearing" in a.name.lower()]
        if named:
            chosen["clearing"] = named[0].ref
    if "bank" not in chosen:
        banks = [a for a in usable["bank"] if a.ref != chosen.get("clearing") and "clearing" not in a.name.lower()]
        if banks:
            chosen["bank"] = banks[0].ref
    if "fees" not in chosen:
        fees = [a for a in usable["fees"] if "fee" in a.name.lower() or "charge" in a.name.lower()]
        if fees:
            chosen["fees"] = fees[0].ref
    return chosen


# --- 6: settings -----------------------------------------------------------------------------------


@bp.route("/setup/<int:connection_id>/settings", methods=["GET", "POST"])
@requires("admin")
def settings(connection_id: int) -> Response | str | tuple[str, int]:
    return settings_form(
        connection_id,
        "setup/settings.html",
        lambda _brief: redirect(url_for("setup.first_import", connection_id=connection_id)),
        title="Collection settings",
        step=5,
        steps=STEPS,
        action=url_for("setup.settings", connection_id=connection_id),
        submit="Save and continue",
    )


# --- 7: first import -------------------------------------------------------------------------------


@bp.route("/setup/<int:connection_id>/import", methods=["GET", "POST"])
@requires("admin")
def first_import(connection_id: int) -> Response | str:
    rt = runtime()
    if request.method == "POST":
        name = actions.start_first_import(rt, connection_id, actor=actor())
        start_import(connection_id, name)
        return redirect(url_for("setup.first_import", connection_id=connection_id))
    brief = actions.connection_brief(rt, connection_id)
    progress = actions.import_progress(rt, connection_id)
    if brief["state"] == "setup":
        return render_template(
            "setup/ready.html",
            title="Ready to import",
            step=6,
            steps=STEPS,
            brief=brief,
            settings=actions.current_settings(rt, connection_id),
        )
    return render_template(
        "setup/progress.html",
        title="First import" if not progress.finished else "Connected",
        step=6,
        steps=STEPS,
        brief=brief,
        progress=progress,
        running=is_importing(connection_id) or progress.state == "running",
        unfinished=[u for u in actions.in_setup(rt) if u[0] != connection_id],
    )


@bp.route("/setup/<int:connection_id>/progress.json")
@requires("admin")
def progress_json(connection_id: int) -> Response:
    progress = actions.import_progress(runtime(), connection_id)
    body = progress.as_dict()
    body["finished"] = not (is_importing(connection_id) or progress.state == "running")
    return jsonify(body)


def _imports() -> dict[int, threading.Thread]:
    return current_app.extensions.setdefault("connector.imports", {})


def is_importing(connection_id: int) -> bool:
    thread = _imports().get(connection_id)
    return bool(thread and thread.is_alive())


def start_import(connection_id: int, name: str) -> threading.Thread:
    """Run the first sync of ``name`` in a background thread of this process (one at a time per
    connection); the page reads its progress from the sync run the runner updates every page."""
    imports = _imports()
    running = imports.get(connection_id)
    if running and running.is_alive():
        return running
    rt = runtime()

    def work() -> None:
        try:
            run_sync(rt, connection=name)
        except Exception:  # the run is recorded as failed; the page shows its error
            log.exception("first import of %s stopped", name)

    thread = threading.Thread(target=work, name=f"first-import-{name}", daemon=True)
    imports[connection_id] = thread
    thread.start()
    return thread
