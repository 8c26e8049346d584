from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from dropbell import errors
from dropbell.accounts import service
from dropbell.accounts.deps import Ctx, CurrentViewer
from dropbell.accounts.schemas import (
    AccountCreate,
    AccountOut,
    PasswordChange,
    RevokedOut,
    TokenOut,
    TokenRequest,
)
from dropbell.ratelimit import check_login_backoff, limit, login_failed, login_succeeded

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post(
    "/accounts",
    status_code=201,
    response_model=AccountOut,
    dependencies=[Depends(limit("signup", by="ip"))],
)
async def create_account(body: AccountCreate, ctx: Ctx) -> AccountOut:
    """Sign up. Usernames are case-insensitive and stored lower-case."""
    return service.present(await service.create_account(ctx, body))


@router.post(
    "/auth/token", response_model=TokenOut, dependencies=[Depends(limit("token", by="ip"))]
)
async def token(body: TokenRequest, request: Request, ctx: Ctx) -> TokenOut:
    """Log in: a bearer token for this client app (`platform` decides the rollout).

    After `DROPBELL_LOGIN_BACKOFF_AFTER` wrong passwords in a row for a username, its
    next try must wait 1, 2, 4 … seconds (at most `DROPBELL_LOGIN_BACKOFF_MAX_SECONDS`):
    429 `rate_limited` with `Retry-After` until then. A right password starts it over.
    """
    await check_login_backoff(request, body.username)
    try:
        access_token, account = await service.issue_token(
            ctx, body.username, body.password, body.platform
        )
    except errors.Unauthorized:
        await login_failed(request, body.username)
        raise
    await login_succeeded(request, body.username)
    return TokenOut(access_token=access_token, account=service.present(account))


@router.post("/auth/revoke", response_model=dict[str, bool])
async def revoke(viewer: CurrentViewer, ctx: Ctx) -> dict[str, bool]:
    """Log out: the token used for this request stops working at once."""
    await service.revoke_token(ctx, viewer.token_id)
    return {"revoked": True}


@router.post("/auth/revoke_all", response_model=RevokedOut)
async def revoke_all(viewer: CurrentViewer, ctx: Ctx) -> RevokedOut:
    """Log out everywhere: every token and web session of the account stops working at
    once (this one too), and their open event streams end."""
    return RevokedOut(revoked=await service.revoke_all(ctx, viewer.account.id))


@router.post("/auth/password", response_model=RevokedOut)
async def change_password(
    body: PasswordChange, request: Request, viewer: CurrentViewer, ctx: Ctx
) -> RevokedOut:
    """Change the password. The current one must be right (else 403 `wrong_password`,
    counted in the log-in back-off); the new one follows the sign-up rules. Every other
    token and web session of the account is revoked (`revoked`: how many); this one stays.
    """
    username = viewer.account.username
    await check_login_backoff(request, username)
    try:
        revoked = await service.change_password(ctx, viewer, body)
    except errors.WrongPassword:
        await login_failed(request, username)
        raise
    await login_succeeded(request, username)
    return RevokedOut(revoked=revoked)


@router.get("/accounts/me", response_model=AccountOut)
async def me(viewer: CurrentViewer) -> AccountOut:
    return service.present(viewer.account)
