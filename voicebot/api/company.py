"""/api/v1/company-card: address, contacts, office hours, dispatcher and emergency numbers (admins edit)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from voicebot.api.access import authorize, remote_address
from voicebot.api.outages import Text
from voicebot.db.company import Card, load_card, save_card
from voicebot.services.keys import Principal
from voicebot.services.outage_views import audit

router = APIRouter(tags=["company card"], dependencies=[Depends(authorize)])


class CardIn(BaseModel):
    address: Text = Field("", max_length=300, examples=["ул. Ленина, д. 1, офис 3"])
    phone: Text = Field("", max_length=32, examples=["+7 495 100-20-30"])
    email: Text = Field("", max_length=200)
    office_hours: Text = Field("", max_length=300, examples=["пн–пт с 9 до 18, обед с 13 до 14"])
    dispatcher_phone: Text = Field("", max_length=32)
    emergency_phone: Text = Field("", max_length=32)


@router.get("/company-card", name="get_company_card", summary="The company card residents are told")
async def get_company_card(request: Request) -> dict[str, str]:
    return (await load_card(request.app.state.db)).as_dict()


@router.put("/company-card", name="put_company_card", summary="Replace the company card")
async def put_company_card(
    body: CardIn, request: Request, principal: Principal = Depends(authorize)
) -> dict[str, str]:
    card = await save_card(request.app.state.db, Card(**body.model_dump()))
    await audit(request.app.state.db, principal.actor, "company_card.save", 1, {}, remote_address(request))
    return card.as_dict()
