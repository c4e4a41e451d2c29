"""Synchronous adapters around the heavy libraries: yt-dlp, FFmpeg, faster-whisper.

No event loop in here: plain functions and classes that take callbacks and a cancel event,
meant to run on a worker thread (the pipeline offloads them).
"""
