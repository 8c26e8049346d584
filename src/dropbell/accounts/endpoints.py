from __future__ import annotations

from fastapi import APIRouter, Depends

from dropbell.accounts import service
from dropbell.accounts.deps import CurrentViewer, Session
from dropbell.accounts.schemas import AccountCreate, AccountOut, TokenOut, TokenRequest
from dropbell.deps import AppClock
from dropbell.ratelimit import limit

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post(
    "/accounts",
    status_code=201,
    response_model=AccountOut,
    dependencies=[Depends(limit("signup", by="ip"))],
)
async def create_account(body: AccountCreate, session: Session, clock: AppClock) -> AccountOut:
    """Sign up. Usernames are case-insensitive and stored lower-case."""
    return service.present(await service.create_account(session, clock, body))


@router.post(
    "/auth/token", response_model=TokenOut, dependencies=[Depends(limit("token", by="ip"))]
)
async def token(body: TokenRequest, session: Session, clock: AppClock) -> TokenOut:
    """Log in: a bearer token for this client app (`platform` decides the rollout)."""
    access_token, account = await service.issue_token(
        session, clock, body.username, body.password, body.platform
    )
    return TokenOut(access_token=access_token, account=service.present(account))


@router.post("/auth/revoke", response_model=dict[str, bool])
async def revoke(viewer: CurrentViewer, session: Session, clock: AppClock) -> dict[str, bool]:
    """Log out: the token used for this request stops working at once."""
    await service.revoke_token(session, clock, viewer.token_id)
    return {"revoked": True}


@router.get("/accounts/me", response_model=AccountOut)
async def me(viewer: CurrentViewer) -> AccountOut:
    return service.present(viewer.account)
