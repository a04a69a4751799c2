"""Delivery providers behind one small protocol (base.py): the log, SMTP, and a Twilio-compatible SMS API."""
