"""The browser half of the authorization-code flow, alike for every sandbox: the consent
page's GET (client and redirect checks, hidden fields, auto-consent) and the client check
its POST starts with. Each provider supplies its page template, the choices it offers
(Xero's organisations, QBO's companies) and its own error bodies."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

AUTO_CONSENT = '<script>document.getElementById("allow").click()</script>'


def registered_client(auth: Any, values: Mapping[str, str]) -> tuple[Any | None, str]:
    """The app a consent request names and its redirect URI; the app is None when it is
    unknown or the redirect URI is not one it may use."""
    app = auth.apps.get(values.get("client_id", ""))
    redirect_uri = values.get("redirect_uri", "")
    if app is None or not auth.check_redirect(app, redirect_uri):
        return None, redirect_uri
    return app, redirect_uri


def consent_page(
    sb: Any,
    template: str,
    fields: Iterable[str],
    bad_client: Callable[[], BaseResponse],
    choices: Callable[[], Mapping[str, str]],
) -> BaseResponse:
    """``GET`` of the consent page: ``template`` formatted with the app, the user, the scope,
    the request's ``fields`` as hidden inputs, ``choices()`` and the auto-consent script."""
    args = request.args
    app, redirect_uri = registered_client(sb.auth, args)
    if app is None:
        return bad_client()
    if args.get("response_type") != "code":
        query = urlencode({"error": "unsupported_response_type", "state": args.get("state", "")})
        return redirect(f"{redirect_uri}?{query}")
    hidden = "\n".join(
        f'<input type="hidden" name="{f}" value="{html.escape(args.get(f, ""))}">' for f in fields if args.get(f)
    )
    page = template.format(
        app=html.escape(app.name),
        email=html.escape(sb.auth.user_email),
        scope=html.escape(args.get("scope", "")),
        action=html.escape(request.path),
        hidden=hidden,
        auto=AUTO_CONSENT if sb.auto_consent else "",
        **choices(),
    )
    return Response(page.encode(), content_type="text/html; charset=utf-8")
