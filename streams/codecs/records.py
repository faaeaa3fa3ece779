"""Which Avro record each topic carries."""

EVENT_RECORDS = {
    "order": "rebound.events.v1.Order",
    "delivery": "rebound.events.v1.Delivery",
    "open": "rebound.events.v1.Open",
    "click": "rebound.events.v1.Click",
    "consent": "rebound.events.v1.Consent",
}
SEND_COMMAND = "rebound.commands.v1.SendCommand"
