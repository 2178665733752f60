"""The sandbox's writes: the Send API (DMs and private replies) and comment replies/edits.

Called by ``handler`` once a write has been routed and counted. The rules, with their sources
in GRAPH_API.md §4 and §5 ("Sandbox rules" subsections):

- windows: RESPONSE/UPDATE within 24 h of the customer's last message; MESSAGE_TAG with
  ``HUMAN_AGENT`` (the only tag left since 2026-04-27; the three retired ones answer
  100/1893061) up to 7 days, and only when the Page holds the Human Agent feature (else 200);
- recipients: a blocked customer answers 551/1545041, an unavailable one
  ``(#200) This person isn't available right now`` (no subcode);
- private replies (``recipient.comment_id``) are per comment, replies included: once
  (a second one, through the API or after one sent from Meta's inbox, answers
  ``(#10900) Activity already replied to``), within 7 days of that comment (10/2018278), never
  to the Page's own comment (``(#10903) This user can't reply to this activity``);
- the Send API ``message_id`` is the id the Conversations API later lists (``m_…``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import instagram
from .apierror import ApiError, invalid_param
from .model import Comment, Delivery, Page, User
from .render import PRIVATE_REPLY_DAYS, Ctx, Json

if TYPE_CHECKING:
    from .engine import Sandbox
    from .request import Request

MAX_TEXT = 2000
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY")
TAGS = ("HUMAN_AGENT",)
RETIRED_TAGS = ("CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE")
"""Answer error 100/1893061 since 27 Apr 2026 (Meta's send-messages page, via chatwoot #14669)."""


def json_param(value: Any, name: str) -> dict[str, Any]:
    """A parameter that is a JSON object, given as an object (JSON body) or a JSON string."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise invalid_param(f"Param {name} must be a JSON object") from exc
        if isinstance(parsed, dict):
            return parsed
    raise invalid_param(f"Param {name} must be a JSON object")


def outside_window() -> ApiError:
    """The Send API's window error (10/2018278)."""
    return ApiError(
        "(#10) This message is sent outside of allowed window. Learn more about the new policy "
        "here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
        10,
        subcode=2018278,
    )


def already_replied() -> ApiError:
    """A second private reply to one comment (reported by many integrations, HTTP 400)."""
    return ApiError("(#10900) Activity already replied to", 10900)


def cannot_reply_to_activity() -> ApiError:
    """A private reply the platform refuses for the target itself (here: the Page's comment)."""
    return ApiError("(#10903) This user can't reply to this activity", 10903)


def _check_tag(mtype: str, tag: str | None) -> None:
    if mtype not in MESSAGING_TYPES:
        raise invalid_param(
            f"Param messaging_type must be one of {{{', '.join(MESSAGING_TYPES)}}} - got '{mtype}'"
        )
    if tag is not None:
        if tag in RETIRED_TAGS:
            raise invalid_param(
                f"The message tag {tag} is no longer supported: since April 27, 2026 only "
                "HUMAN_AGENT can be used",
                1893061,
            )
        if tag not in TAGS:
            raise invalid_param(f"Param tag must be one of {{{', '.join(TAGS)}}} - got '{tag}'")
    if mtype == "MESSAGE_TAG" and tag is None:
        raise invalid_param("Param tag is required when messaging_type is MESSAGE_TAG")


def _target_comment(ctx: Ctx, page: Page, raw: Any) -> tuple[Comment, User]:
    st = ctx.state
    comment = st.live_comment(str(raw))
    if comment is None or st.page_of_comment(comment) != page.id:
        raise invalid_param("Invalid comment_id parameter", 2018292)
    if comment.from_id == page.id:
        # The Page cannot open a conversation with itself ("You can not reply to your own
        # comments", Pages messaging guide): a refusal of the target, not a bad parameter.
        raise cannot_reply_to_activity()
    if comment.private_reply_mid is not None:
        raise already_replied()
    return comment, st.users[comment.from_id]


def send(sb: Sandbox, page: Page, req: Request, ctx: Ctx) -> Json:
    """``POST /{page-id}/messages``: a DM, a private reply, or a sender action.

    A recipient that is an Instagram customer or comment follows Instagram's rules
    (``instagram.send``).
    """
    st = ctx.state
    if "recipient" not in req.params:
        raise invalid_param("The parameter recipient is required")
    recipient = json_param(req.params["recipient"], "recipient")
    if "message" not in req.params:
        if req.params.get("sender_action"):
            uid = str(recipient.get("id", ""))
            if (page.id, uid) not in st.conv_by_user:
                raise invalid_param("No matching user found", 2018001)
            return {"recipient_id": uid}
        raise invalid_param("The parameter message is required")
    message = json_param(req.params["message"], "message")
    mtype = str(req.params.get("messaging_type", "RESPONSE"))
    raw_tag = req.params.get("tag")
    tag = str(raw_tag) if raw_tag is not None else None
    _check_tag(mtype, tag)
    text = message.get("text")
    text = "" if text is None else str(text)
    attachment = message.get("attachment")
    if not text and not attachment:
        raise invalid_param(
            "Message cannot be empty, must provide valid attachment or text", 2018034
        )
    account = instagram.account_of_page(ctx, page)
    if account is not None and instagram.is_instagram_recipient(ctx, recipient):
        return instagram.send(sb, page, account, recipient, text, mtype, tag, ctx)
    if len(text) > MAX_TEXT:
        raise invalid_param(
            f"Length of param message[text] must be less than or equal to {MAX_TEXT}"
        )

    comment: Comment | None = None
    if "comment_id" in recipient:
        comment, user = _target_comment(ctx, page, recipient["comment_id"])
    elif "id" in recipient:
        found = st.users.get(str(recipient["id"]))
        if found is None or (page.id, found.id) not in st.conv_by_user:
            raise invalid_param("No matching user found", 2018001)
        user = found
    else:
        raise invalid_param("Param recipient must contain one of {id, comment_id}")

    if user.blocked:
        raise ApiError("This person isn't available right now.", 551, subcode=1545041)
    if user.unavailable:
        raise ApiError("(#200) This person isn't available right now.", 200)
    if tag == "HUMAN_AGENT" and not page.human_agent:
        raise ApiError(
            "(#200) Permissions error: this app has not been approved for the Human Agent "
            "feature (HUMAN_AGENT tag) on this Page",
            200,
        )
    if comment is not None:
        # Private replies have their own clock: 7 days from the comment answered (GRAPH_API
        # §5.4); the refusal is the Send API's window error (the exact code is undocumented).
        if ctx.now - comment.at > timedelta(days=PRIVATE_REPLY_DAYS):
            raise outside_window()
    else:
        conv = st.conversation_for(page.id, user.id)
        last = conv.last_user_message()
        age = ctx.now - last.at if last is not None else timedelta.max
        if tag == "HUMAN_AGENT":
            if age > HUMAN_AGENT_WINDOW:
                raise outside_window()
        elif mtype != "MESSAGE_TAG" and age > WINDOW:
            raise outside_window()

    attachments = _attachments(attachment)
    msg = st.add_message(page.id, user.id, text, ctx.now, from_page=True, attachments=attachments)
    if comment is not None:
        comment.private_reply_mid = msg.id
    st.deliveries.append(
        Delivery(
            page_id=page.id,
            user_id=user.id,
            message_id=msg.id,
            text=text,
            at=ctx.now,
            messaging_type=mtype,
            tag=tag,
            comment_id=comment.id if comment is not None else None,
        )
    )
    return {"recipient_id": user.id, "message_id": msg.id}


def _attachments(attachment: Any) -> list[dict[str, Any]]:
    if not isinstance(attachment, dict):
        return []
    payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
    url = str((payload or {}).get("url", ""))
    kind = str(attachment.get("type", "file"))
    if kind == "image":
        return [
            {
                "mime_type": "image/jpeg",
                "name": url.rsplit("/", 1)[-1] or "image.jpg",
                "image_data": {"width": 800, "height": 600, "url": url, "preview_url": url},
            }
        ]
    return [
        {
            "mime_type": "application/octet-stream",
            "name": url.rsplit("/", 1)[-1] or "file",
            "file_url": url,
        }
    ]


def page_comment(
    parent_post_id: str, parent_comment_id: str | None, req: Request, ctx: Ctx
) -> Json:
    """``POST /{post-or-comment}/comments``: a public comment or reply by the Page."""
    text = str(req.params.get("message") or "")
    if not text.strip() and not req.params.get("attachment_url"):
        raise invalid_param("Missing message or attachment")
    cid = ctx.state.add_comment(
        parent_post_id, ctx.page.id, text, ctx.now, parent_id=parent_comment_id
    )
    return {"id": cid}


def _truthy(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    return None


def update_comment(comment: Comment, req: Request) -> Json:
    """``POST /{comment-id}``: hide/unhide (``is_hidden``) or edit (``message``)."""
    changed = False
    if "is_hidden" in req.params:
        hidden = _truthy(req.params["is_hidden"])
        if hidden is None:
            raise invalid_param("Param is_hidden must be a boolean")
        comment.is_hidden = hidden
        changed = True
    if "message" in req.params:
        text = str(req.params["message"])
        if not text.strip():
            raise invalid_param("Missing message or attachment")
        comment.message = text
        changed = True
    if not changed:
        raise invalid_param("Missing a parameter to update: is_hidden or message")
    return {"success": True}


def delete_comment(comment: Comment) -> Json:
    """``DELETE /{comment-id}``."""
    comment.deleted = True
    return {"success": True}
