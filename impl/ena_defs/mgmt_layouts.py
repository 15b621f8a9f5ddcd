"""Byte layouts of the management-plane structures shared by driver and device, as numpy
structured dtypes with the members, offsets and sizes of the C structs in
``ena-com/ena_defs/ena_admin_defs.h`` (little-endian).

* ``struct ena_admin_ena_mmio_req_read_less_resp`` (8 B), the readless read response
  https://github.com/amzn/amzn-drivers/blob/64788ef7c182a9383445942b5f5f77fe1d25a290/kernel/fbsd/ena/ena-com/ena_defs/ena_admin_defs.h#L1291
"""

from __future__ import annotations

import numpy as np

READLESS_RESP_DTYPE = np.dtype([("req_id", "<u2"), ("reg_off", "<u2"), ("reg_val", "<u4")])
READLESS_POISON = 0xDEAD
"""ena_com poisons ``req_id`` with ``seq_num + 0xDEAD`` before each request."""
