"""/api/v1/simulations: talk to a scenario over the text channel (`voicebot.services.simulations`), in a
sandbox that writes nothing; each simulation belongs to the key that started it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from voicebot.api.access import authorize
from voicebot.services import simulations
from voicebot.services.keys import Principal
from voicebot.services.simulations import SimulationIn, TurnIn

router = APIRouter(prefix="/simulations", tags=["simulations"], dependencies=[Depends(authorize)])
SimulationId = Path(min_length=1, max_length=64)


@router.post(
    "", name="create_simulation", status_code=201, summary="Start a dialogue; returns its first turn"
)
async def create_simulation(
    body: SimulationIn, request: Request, principal: Principal = Depends(authorize)
) -> dict[str, Any]:
    state = request.app.state
    return await simulations.create_simulation(state.simulations, state.db, state.settings, body, principal)


@router.post("/{simulation_id}/turns", name="simulation_turn", summary="The caller says something")
async def simulation_turn(
    body: TurnIn,
    request: Request,
    simulation_id: str = SimulationId,
    principal: Principal = Depends(authorize),
) -> dict[str, Any]:
    return await simulations.simulation_turn(request.app.state.simulations, simulation_id, body, principal)


@router.delete("/{simulation_id}", name="delete_simulation", status_code=204, summary="Hang up and forget")
async def delete_simulation(
    request: Request, simulation_id: str = SimulationId, principal: Principal = Depends(authorize)
) -> None:
    await simulations.delete_simulation(request.app.state.simulations, simulation_id, principal)
