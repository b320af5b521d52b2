"""Catalog routes of VCR API v1."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["catalog"])
