"""Alerts: telling the owner, through Apprise (Telegram, Slack, Discord, e-mail, ntfy, webhooks),
what a running node does when nobody watches its dashboard.

Contract: the node holds one ``Alerts`` (``service``); it watches the node's read models
(``watch``), coalesces and rate-bounds (``throttle``) and sends in the background (``dispatcher``,
``sender``) so alerting never blocks or breaks trading. Destination URLs are secrets: only
``urls.redact`` forms are ever shown. Imports ``domain``, ``config`` and ``readmodels`` of the
project (import-linter).
"""

from kalshi_trader.alerts.message import Alert, Severity
from kalshi_trader.alerts.service import Alerts

__all__ = ["Alert", "Alerts", "Severity"]
