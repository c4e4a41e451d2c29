"""AudioGrab: grab, convert and transcribe audio and video (see README.md).

As a library it logs through the `audiograb` logger and leaves handlers to the application
(`audiograb serve` and `audiograb bot` install their own); without one, nothing is printed.
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
