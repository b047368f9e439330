"""Paths to views; nothing else."""

from __future__ import annotations

from aiohttp import web

from api import views


def setup_routes(app: web.Application) -> None:
    app.add_routes(
        [
            web.post(views.EXPORTS_PATH, views.create_export),
            web.get(views.EXPORTS_PATH, views.list_exports, allow_head=False),
            web.get(f"{views.EXPORTS_PATH}/{{export_id}}", views.get_export, allow_head=False),
            web.delete(f"{views.EXPORTS_PATH}/{{export_id}}", views.cancel_export),
            web.get("/api/v1/openapi.json", views.openapi, allow_head=False),
            web.get("/healthz", views.healthz, allow_head=False),
            web.get("/readyz", views.readyz, allow_head=False),
            web.get("/metrics", views.metrics, allow_head=False),
        ]
    )
