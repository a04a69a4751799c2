"""Server-rendered HTML pages: the patient's link page and the demo outbox (templates/, texts/)."""
