"""`POST /encode` and `POST /decode`, as the Temporal UI and CLI call them: a body `{"payloads": [...]}` in
the protobuf JSON form of `temporal.api.common.v1.Payloads`, answered in the same form.

The UI adds `?preserveStorageRefs=true` and an `X-Namespace` header; neither changes what is done here. A
payload that cannot be decrypted (a key this server does not hold, or altered data) answers 422 naming the
key id, and nothing of the payload.
"""

from collections.abc import Awaitable, Callable, Sequence

from fastapi import APIRouter, Request, Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.problems import Problem
from codec_server.auth import Caller
from config.payload_codec import EncryptionCodec, PayloadNotDecrypted

router = APIRouter()

Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


@router.post("/encode", summary="Encrypt payloads with the active key")
async def encode(request: Request, caller: Caller) -> Response:
    codec: EncryptionCodec = request.app.state.codec
    return await _apply(codec.encode, request)


@router.post("/decode", summary="Decrypt payloads; those not encrypted come back as they are")
async def decode(request: Request, caller: Caller) -> Response:
    codec: EncryptionCodec = request.app.state.codec
    return await _apply(codec.decode, request)


async def _apply(transform: Transform, request: Request) -> Response:
    try:
        given = json_format.Parse(await request.body(), Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError):
        raise Problem(400, "bad-request", 'The body is not {"payloads": [...]} in protobuf JSON.') from None
    try:
        done = await transform(given.payloads)
    except PayloadNotDecrypted as err:
        raise Problem(422, "payload-not-decrypted", str(err)) from None
    return Response(
        json_format.MessageToJson(Payloads(payloads=done)),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},  # decrypted clinical data stays out of every cache
    )
