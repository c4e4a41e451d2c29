"""AudioGrab: grab, convert and transcribe audio and video."""
