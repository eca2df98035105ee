"""The request and response bodies of the auth API (they are the OpenAPI schema)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from spikekit.reference_platform.auth.domain import (
    MAX_PASSWORD_CHARS,
    MIN_NEW_PASSWORD_CHARS,
    USERNAME_PATTERN,
)

TOKEN_MAX_CHARS = 128


class RegisterRequest(BaseModel):
    username: str = Field(
        pattern=USERNAME_PATTERN,
        description="3-64 characters: letters, digits, '_', '.', '-'; case-insensitive",
        examples=["alice"],
    )
    password: str = Field(
        min_length=MIN_NEW_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS, examples=["correct horse"]
    )


class RegisterResponse(BaseModel):
    player_id: str = Field(description="'p' + 16 hex digits", examples=["p3f9c2a7e01b4d866"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64, examples=["player000001"])
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS, examples=["spike-1"])


class LoginResponse(BaseModel):
    token: str = Field(description="opaque session token: 'st_' + 43 URL-safe characters")
    player_id: str = Field(examples=["p000001"])
    expires_in: int = Field(description="seconds the session lives", examples=[1800])


class TokenRequest(BaseModel):
    token: str = Field(min_length=1, max_length=TOKEN_MAX_CHARS)


class SessionResponse(BaseModel):
    player_id: str = Field(examples=["p000001"])
    expires_in: int = Field(description="seconds the session has left", examples=[1795])
