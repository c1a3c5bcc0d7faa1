"""Exports for auditors: what can be exported (sources), the archive, its signed manifest.

State changes (asking for an export, running a job, downloading it) are services in
``audit.services.exports``; this package only reads.
"""
