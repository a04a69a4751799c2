"""Delivery providers behind one small protocol; SMTP and SMS over HTTP will implement it too."""
