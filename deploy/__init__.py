"""Deployment: HAProxy in front of `helpdesk serve` replicas (make replicas)."""
