"""Where each modelled rule comes from: the upstream C, pinned to a commit.

Every citation in model/, impl/ and the generated docs points into luigirizzo/netmap at one
of two commits: :data:`NETMAP_COMMIT` (today's code, NETMAP_API 14) or
:data:`NETMAP_2013_COMMIT` (the cur/avail/reserved API, NETMAP_API 5, the last version
before head/cur/tail), or into amzn/amzn-drivers at :data:`ENA_COMMIT` (the FreeBSD ENA
driver v2.8.3 and its copy of ena-com, under ``kernel/fbsd/ena/``).
:data:`SYMBOLS` names the functions and structures the model follows, with the file and
line where each starts at that commit, so docs can link them by name (:func:`link`) and a
test can check that every permalink in a docstring is one of them.
"""

from __future__ import annotations

from typing import NamedTuple

NETMAP_REPO = "https://github.com/luigirizzo/netmap"
#: luigirizzo/netmap master on 2026-02-10.
NETMAP_COMMIT = "89607e1406c1fa5ac2106bd2ff33417f090c0d60"
#: "merge with HEAD", 2013-12-02: the legacy API just before commit 7b16969f introduced
#: head/cur/tail (NETMAP_API 5 -> 10).
NETMAP_2013_COMMIT = "95b478cfb7cbc07519092615c7c9481e7a5d14a6"

ENA_REPO = "https://github.com/amzn/amzn-drivers"
#: amzn/amzn-drivers master on 2026-05-11: FreeBSD ENA driver v2.8.3.
ENA_COMMIT = "64788ef7c182a9383445942b5f5f77fe1d25a290"


class Symbol(NamedTuple):
    """A C function, macro or structure at a pinned commit."""

    path: str
    line: int
    commit: str = NETMAP_COMMIT
    repo: str = NETMAP_REPO

    @property
    def url(self) -> str:
        return f"{self.repo}/blob/{self.commit}/{self.path}#L{self.line}"


def ena(path: str, line: int) -> Symbol:
    """A symbol in the FreeBSD ENA driver; ``path`` is relative to ``kernel/fbsd/ena/``."""
    return Symbol(f"kernel/fbsd/ena/{path}", line, ENA_COMMIT, ENA_REPO)


_C = "sys/dev/netmap/netmap.c"
_KERN = "sys/dev/netmap/netmap_kern.h"
_H = "sys/net/netmap.h"
_USER = "sys/net/netmap_user.h"
_IXGBE = "sys/dev/netmap/ixgbe_netmap.h"
_MAN = "share/man/man4/netmap.4"

#: Name -> where it starts.  Names are the C identifiers; a call site is named after its
#: caller and the ioctl or event it handles.
SYMBOLS: dict[str, Symbol] = {
    "struct netmap_slot": Symbol(_H, 163),
    "struct netmap_ring": Symbol(_H, 285),
    "nm_ring_next": Symbol(_USER, 143),
    "nm_tx_pending": Symbol(_USER, 154),
    "nm_ring_space": Symbol(_USER, 162),
    "nm_ring_empty": Symbol(_H, 358),
    "struct netmap_kring": Symbol(_KERN, 411),
    "nm_next": Symbol(_KERN, 611),
    "nm_prev": Symbol(_KERN, 619),
    "NAF_FORCE_RECLAIM": Symbol(_KERN, 860),
    "nm_kr_rxspace": Symbol(_KERN, 1188),
    "netmap_krings_create": Symbol(_C, 850),
    "netmap_krings_create (initial indices)": Symbol(_C, 922),
    "NM_FAIL_ON": Symbol(_C, 1693),
    "nm_txsync_prologue": Symbol(_C, 1721),
    "nm_rxsync_prologue": Symbol(_C, 1785),
    "netmap_ring_reinit": Symbol(_C, 1847),
    "netmap_get_hw_na": Symbol(_C, 1478),
    "netmap_get_na": Symbol(_C, 1567),
    "netmap_update_config": Symbol(_C, 762),
    "netmap_ioctl (NIOCCTRL API check)": Symbol(_C, 2774),
    "netmap_ioctl (NETMAP_REQ_REGISTER)": Symbol(_C, 2796),
    "netmap_ioctl (NETMAP_REQ_PORT_INFO_GET)": Symbol(_C, 2929),
    "nm_sync_finalize": Symbol(_C, 2716),
    "netmap_ioctl": Symbol(_C, 2757),
    "netmap_ioctl (NIOCTXSYNC)": Symbol(_C, 3216),
    "netmap_ioctl (NIOCRXSYNC)": Symbol(_C, 3226),
    "netmap_poll": Symbol(_C, 3672),
    "netmap_set_ringid": Symbol(_C, 2001),
    "netmap_unset_ringid": Symbol(_C, 2028),
    "nm_si_user": Symbol(_KERN, 2097),
    "netmap_ioctl (np_si)": Symbol(_C, 2891),
    "netmap_notify": Symbol(_C, 3978),
    "netmap_common_irq": Symbol(_C, 4472),
    "netmap_rx_irq": Symbol(_C, 4518),
    "ixgbe_netmap_rxsync (NKR_PENDINTR test)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 370),
    "ixgbe_netmap_rxsync (NKR_PENDINTR clear)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 426),
    "netmap_poll (txsync)": Symbol(_C, 3818),
    "netmap_poll (rxsync)": Symbol(_C, 3871),
    "netmap_reset": Symbol(_C, 4392),
    "binarycomp": Symbol("utils/ctrl-api-test.c", 2022),
    # -- the lines the findings are about (docs/findings.md)
    "nm_txsync_prologue (wrapped cur check)": Symbol(_C, 1758),
    "nm_rxsync_prologue (wrapped cur check)": Symbol(_C, 1820),
    "nm_rxsync_prologue (stores first)": Symbol(_C, 1801),
    "netmap_ring_reinit (copies the user indices)": Symbol(_C, 1855),
    "netmap_ring_reinit (resets only on errors)": Symbol(_C, 1878),
    "netmap_init (/dev/netmap mode 0600)": Symbol(_C, 4633),
    "PNMB": Symbol(_KERN, 1968),
    "ixgbe_netmap_txsync (hwcur to head)": Symbol(_IXGBE, 239),
    # The driver contract and the size limits the tests check the implementation against.
    "ixgbe_netmap_rxsync (report flags)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 411),
    "ixgbe_netmap_rxsync (NS_BUF_CHANGED)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 451),
    "ixgbe_netmap_rxsync (refill address)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 457),
    "nm_mem (ring pool objmaxsize)": Symbol("sys/dev/netmap/netmap_mem2.c", 551),
    "netmap_config_obj_allocator (size check)": Symbol("sys/dev/netmap/netmap_mem2.c", 1350),
    "netmap_mem_private_new (ring size)": Symbol("sys/dev/netmap/netmap_mem2.c", 1777),
    "netmap_mem2_rings_create": Symbol("sys/dev/netmap/netmap_mem2.c", 1975),
    "netmap_ioctl (NIOCTXSYNC / NIOCRXSYNC)": Symbol(_C, 3179),
    "struct netmap_ring (2013)": Symbol(_H, 213, NETMAP_2013_COMMIT),
    "netmap_txsync_to_host (2013)": Symbol(_C, 859, NETMAP_2013_COMMIT),
    "netmap_rxsync_from_host (2013)": Symbol(_C, 907, NETMAP_2013_COMMIT),
    "netmap_rxsync_from_host (2013, nr_hwavail -= n)": Symbol(_C, 940, NETMAP_2013_COMMIT),
    "netmap_grab_packets (2013)": Symbol(_C, 746, NETMAP_2013_COMMIT),
    "netmap_grab_packets (2013, k += n)": Symbol(_C, 762, NETMAP_2013_COMMIT),
    "netmap_sw_to_nic (2013, slot[nr_hwcur])": Symbol(_C, 825, NETMAP_2013_COMMIT),
    "netmap_sw_to_nic (2013)": Symbol(_C, 802, NETMAP_2013_COMMIT),
    "netmap_sw_to_nic (2013, howmany)": Symbol(_C, 817, NETMAP_2013_COMMIT),
    "netmap_sw_to_nic (2013, k1++)": Symbol(_C, 845, NETMAP_2013_COMMIT),
    "netmap_sw_to_nic (2013, ring->cur)": Symbol(_C, 844, NETMAP_2013_COMMIT),
    "netmap_krings_create (2013)": Symbol(_C, 431, NETMAP_2013_COMMIT),
    "netmap_poll (2013, sw_to_nic)": Symbol(_C, 1809, NETMAP_2013_COMMIT),
    "netmap_poll (2013, NR_FORWARD)": Symbol(_C, 1780, NETMAP_2013_COMMIT),
    "netmap_transmit (2013)": Symbol(_C, 2019, NETMAP_2013_COMMIT),
    "netmap_transmit (2013, ring full)": Symbol(_C, 2054, NETMAP_2013_COMMIT),
    "netmap_ring_reinit (2013)": Symbol(_C, 1127, NETMAP_2013_COMMIT),
    "netmap_ioctl (NIOCGINFO, 2013)": Symbol(_C, 1345, NETMAP_2013_COMMIT),
    "netmap_reset (2013)": Symbol(_C, 2091, NETMAP_2013_COMMIT),
    "ixgbe_netmap_txsync (2013)": Symbol(_IXGBE, 193, NETMAP_2013_COMMIT),
    "ixgbe_netmap_txsync (2013, cur > lim)": Symbol(_IXGBE, 210, NETMAP_2013_COMMIT),
    "ixgbe_netmap_rxsync (2013)": Symbol(_IXGBE, 415, NETMAP_2013_COMMIT),
    "ixgbe_netmap_rxsync (2013, reserved + avail)": Symbol(_IXGBE, 489, NETMAP_2013_COMMIT),
    # -- cited by the rules, errors, driver and user-question pages (ringspec/docgen)
    "netmap.h host rings": Symbol(_H, 139),
    "NS_MOREFRAG": Symbol(_H, 214),
    "netmap_ring ownership": Symbol(_H, 277),
    "struct netmap_ring (tail)": Symbol(_H, 299),
    "struct nmreq_header": Symbol(_H, 514),
    "struct nmreq_register": Symbol(_H, 599),
    "NR_REG_ALL_NIC": Symbol(_H, 638),
    "NIOCCTRL": Symbol(_H, 653),
    "NIOCTXSYNC": Symbol(_H, 659),
    "NETMAP_IF": Symbol(_USER, 110),
    "NETMAP_TXRING": Symbol(_USER, 112),
    "NETMAP_RXRING": Symbol(_USER, 115),
    "NETMAP_BUF": Symbol(_USER, 119),
    "nm_prlim": Symbol(_KERN, 267),
    "netmap_kring (nr_hwtail)": Symbol(_KERN, 365),
    "NAF_FORCE_READ": Symbol(_KERN, 859),
    "nm_kr_txempty": Symbol(_KERN, 1204),
    "nm_kr_wouldblock": Symbol(_KERN, 1217),
    "nm_kr_tryget": Symbol(_KERN, 1256),
    "nm_native_on": Symbol(_KERN, 1394),
    "netmap_idx_n2k": Symbol(_KERN, 1890),
    "netmap_idx_k2n": Symbol(_KERN, 1909),
    "netmap_txsync_to_host": Symbol(_C, 1357),
    "netmap_rxsync_from_host": Symbol(_C, 1390),
    "netmap_grab_packets": Symbol(_C, 1239),
    "nm_may_forward_up": Symbol(_C, 1277),
    "nm_may_forward_down": Symbol(_C, 1284),
    "netmap_sw_to_nic": Symbol(_C, 1304),
    "netmap_transmit": Symbol(_C, 4278),
    "netmap_transmit (MBUF_TXQ)": Symbol(_C, 4305),
    "netmap_interp_ringid": Symbol(_C, 1899),
    "netmap_krings_get": Symbol(_C, 2062),
    "netmap_buf_size_validate": Symbol(_C, 2246),
    "netmap_ioctl (CSB mode)": Symbol(_C, 3188),
    "netmap_ioctl (nm_kr_tryget)": Symbol(_C, 3206),
    "netmap_poll (POLLERR)": Symbol(_C, 3702),
    "netmap_poll (lock-free TX test)": Symbol(_C, 3748),
    "netmap_poll (txsync flags)": Symbol(_C, 3822),
    "netmap_poll (TX found)": Symbol(_C, 3834),
    "netmap_poll (RX found)": Symbol(_C, 3895),
    "netmap_reset (TX hwtail)": Symbol(_C, 4416),
    "netmap_reset (nr_mode off)": Symbol(_C, 4433),
    "netmap_reset (commit)": Symbol(_C, 4442),
    "netmap_sync_kloop": Symbol("sys/dev/netmap/netmap_kloop.c", 573),
    "nm_os_onenter": Symbol("sys/dev/netmap/netmap_freebsd.c", 1488),
    "nmreq_register_from_legacy": Symbol("sys/dev/netmap/netmap_legacy.c", 62),
    "netmap_ioctl_legacy": Symbol("sys/dev/netmap/netmap_legacy.c", 361),
    "nm_vale_preflush": Symbol("sys/dev/netmap/netmap_vale.c", 484),
    "nm_vale_preflush (incomplete chain)": Symbol("sys/dev/netmap/netmap_vale.c", 547),
    "ixgbe_netmap_txsync": Symbol("sys/dev/netmap/ixgbe_netmap.h", 173),
    "ixgbe_netmap_txsync (TDT)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 285),
    "ixgbe_netmap_txsync (reclaim)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 293),
    "ixgbe_netmap_txsync (TDH)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 338),
    "ixgbe_netmap_rxsync": Symbol("sys/dev/netmap/ixgbe_netmap.h", 360),
    "ixgbe_netmap_rxsync (head > lim)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 376),
    "ixgbe_netmap_rxsync (refill)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 437),
    "ixgbe_netmap_rxsync (RDT)": Symbol("sys/dev/netmap/ixgbe_netmap.h", 471),
    "netmap(4) RINGS": Symbol(_MAN, 337),
    "netmap(4) SCATTER GATHER I/O": Symbol(_MAN, 525),
    "netmap(4) NIOCREGIF": Symbol(_MAN, 602),
    "netmap(4) SELECT, POLL": Symbol(_MAN, 707),
    "netmap(4) ACCESSING THE HOST STACK": Symbol(_MAN, 1088),
    "struct netmap_kring (2013)": Symbol(_KERN, 203, NETMAP_2013_COMMIT),
    # -- entering and leaving netmap mode (model/netmap_switch.py)
    "netmap_do_unregif": Symbol(_C, 1042),
    "netmap_do_regif": Symbol(_C, 2570),
    "nm_set_native_flags": Symbol(_C, 4541),
}

#: The ENA driver and ena-com (FreeBSD flavour).  Each area keeps its own block, so work on
#: the model, the device and the driver adds names without touching the others' lines.
ENA_SYMBOLS: dict[str, Symbol] = {
    # -- ENA model (model/ena_*.py)
    "ena_com_free_q_entries": ena("ena-com/ena_eth_com.h", 105),
    "ena_com_sq_have_enough_space": ena("ena-com/ena_eth_com.h", 117),
    "ena_com_is_doorbell_needed": ena("ena-com/ena_eth_com.h", 152),
    "ena_com_write_sq_doorbell": ena("ena-com/ena_eth_com.h", 183),
    "ena_com_comp_ack": ena("ena-com/ena_eth_com.h", 218),
    "ena_com_cq_inc_head": ena("ena-com/ena_eth_com.h", 223),
    "ena_com_tx_comp_req_id_get": ena("ena-com/ena_eth_com.h", 232),
    "ena_com_write_bounce_buffer_to_dev": ena("ena-com/ena_eth_com.c", 75),
    "get_sq_desc_llq": ena("ena-com/ena_eth_com.c", 151),
    "ena_com_close_bounce_buffer": ena("ena-com/ena_eth_com.c", 172),
    "ena_com_sq_update_llq_tail": ena("ena-com/ena_eth_com.c", 210),
    "ena_com_sq_update_tail": ena("ena-com/ena_eth_com.c", 252),
    "ena_com_cdesc_rx_pkt_get": ena("ena-com/ena_eth_com.c", 269),
    "ena_com_prepare_tx": ena("ena-com/ena_eth_com.c", 439),
    "ena_com_rx_pkt": ena("ena-com/ena_eth_com.c", 598),
    "ena_com_add_single_rx_desc": ena("ena-com/ena_eth_com.c", 664),
    "ena_com_create_io_queue": ena("ena-com/ena_com.c", 2198),
    "ena_com_destroy_io_queue": ena("ena-com/ena_com.c", 2259),
    "ENA_PKT_MAX_BUFS": ena("ena.h", 117),
    "ENA_TX_RESUME_THRESH": ena("ena.h", 127),
    "ENA_TX_RING_IDX_NEXT": ena("ena.h", 154),
    "struct ena_ring (tx_max_header_size)": ena("ena.h", 367),
    "ena_trigger_reset": ena("ena.h", 655),
    "ena_init_io_rings_basic": ena("ena.c", 393),
    "validate_tx_req_id": ena("ena.c", 573),
    "ena_setup_tx_resources": ena("ena.c", 639),
    "ena_setup_rx_resources": ena("ena.c", 873),
    "ena_refill_rx_bufs": ena("ena.c", 1112),
    "ena_intr_msix_mgmnt": ena("ena.c", 1712),
    "check_cdesc_in_tx_cq": ena("ena.c", 3222),
    "ena_keep_alive_wd": ena("ena.c", 3132),
    "check_for_missing_keep_alive": ena("ena.c", 3159),
    "check_for_admin_com_state": ena("ena.c", 3183),
    "check_for_missing_completions": ena("ena.c", 3343),
    "ena_update_hints": ena("ena.c", 3436),
    "ena_timer_service": ena("ena.c", 3535),
    "ena_destroy_device": ena("ena.c", 3594),
    "ena_restore_device": ena("ena.c", 3672),
    "ENA_DEFAULT_KEEP_ALIVE_TO": ena("ena.h", 173),
    "check_missing_comp_in_tx_queue": ena("ena.c", 3247),
    "ena_get_tx_req_id": ena("ena_datapath.c", 211),
    "ena_tx_cleanup": ena("ena_datapath.c", 245),
    "ena_rx_mbuf": ena("ena_datapath.c", 419),
    "ena_rx_cleanup": ena("ena_datapath.c", 563),
    "ena_check_and_collapse_mbuf": ena("ena_datapath.c", 827),
    "ena_xmit_mbuf": ena("ena_datapath.c", 975),
    # -- ENA device and its byte layouts (impl/device, impl/ena_defs, impl/bus.py)
    "struct ena_eth_io_tx_desc": ena("ena-com/ena_defs/ena_eth_io_defs.h", 52),
    "struct ena_eth_io_tx_meta_desc": ena("ena-com/ena_defs/ena_eth_io_defs.h", 128),
    "struct ena_eth_io_tx_cdesc": ena("ena-com/ena_defs/ena_eth_io_defs.h", 176),
    "struct ena_eth_io_rx_desc": ena("ena-com/ena_defs/ena_eth_io_defs.h", 194),
    "struct ena_eth_io_rx_cdesc_base": ena("ena-com/ena_defs/ena_eth_io_defs.h", 228),
    "struct ena_eth_io_intr_reg": ena("ena-com/ena_defs/ena_eth_io_defs.h", 291),
    "ENA_LLQ_ENTRY_DESC_CHUNK_SIZE": ena("ena-com/ena_eth_com.h", 43),
    "ena_com_unmask_intr": ena("ena-com/ena_eth_com.h", 99),
    "enum ena_regs_reset_reason_types": ena("ena-com/ena_defs/ena_regs_defs.h", 37),
    "ENA_REGS_VERSION_OFF": ena("ena-com/ena_defs/ena_regs_defs.h", 64),
    "ENA_REG_BAR": ena("ena.h", 97),
    "ENA_DEFAULT_RING_SIZE": ena("ena.h", 104),
    "struct ena_admin_aq_create_sq_cmd": ena("ena-com/ena_defs/ena_admin_defs.h", 276),
    "struct ena_admin_aq_create_cq_cmd": ena("ena-com/ena_defs/ena_admin_defs.h", 370),
    "ena_com_create_io_sq": ena("ena-com/ena_com.c", 1301),
    "ena_com_create_io_cq": ena("ena-com/ena_com.c", 1461),
    "ena_rss_reorder_hash_key": ena("ena_rss.c", 104),

    # -- ENA driver datapath (impl/ena)
    "ena_cleanup": ena("ena_datapath.c", 70),
    "ena_mq_start": ena("ena_datapath.c", 139),
    "ena_rx_checksum": ena("ena_datapath.c", 527),
    "ena_rx_hash_mbuf": ena("ena_datapath.c", 346),
    "ena_start_xmit": ena("ena_datapath.c", 1109),
    "ena_tx_csum": ena("ena_datapath.c", 715),
    "ena_tx_map_mbuf": ena("ena_datapath.c", 860),
    "struct ena_stats_tx": ena("ena.h", 320),

    # -- benchmarks and docs
    # the RSS page (ringspec/docgen/rss_page.py)
    "ENA_RX_RSS_TABLE_LOG_SIZE": ena("ena.h", 119),
    "ENA_HASH_KEY_SIZE": ena("ena.h", 122),
    "ENA_IO_RXQ_IDX": ena("ena.h", 159),
    "ena_rss_key_fill": ena("ena_rss.c", 80),
    "ena_rss_set_hash": ena("ena_rss.c", 115),
    "ena_rss_init_default": ena("ena_rss.c", 142),
    "ena_rss_init_default (i % num_io_queues)": ena("ena_rss.c", 158),
    "ena_rss_configure": ena("ena_rss.c", 202),
    "ena_com_hash_key_fill_default_key": ena("ena-com/ena_com.c", 1149),
    "ena_com_ind_tbl_convert_to_device": ena("ena-com/ena_com.c", 1372),
    "ena_com_fill_hash_function": ena("ena-com/ena_com.c", 2902),
    "ena_com_set_default_hash_ctrl": ena("ena-com/ena_com.c", 3058),
    "ena_com_indirect_table_fill_entry": ena("ena-com/ena_com.c", 3156),
    "ena_com_indirect_table_set": ena("ena-com/ena_com.c", 3172),
    "ena_com_rss_init": ena("ena-com/ena_com.c", 3251),
    "enum ena_admin_hash_functions": ena("ena-com/ena_defs/ena_admin_defs.h", 871),
    "enum ena_admin_flow_hash_proto": ena("ena-com/ena_defs/ena_admin_defs.h", 898),
    "enum ena_admin_flow_hash_fields": ena("ena-com/ena_defs/ena_admin_defs.h", 915),

    # -- netmap enter/exit on ENA (model/netmap_switch.py, model/ena_netmap.py)
    "ena_netmap_reg": ena("ena_netmap.c", 274),
    "ena_ring_in_netmap": ena("ena_netmap.c", 222),
    # -- netmap datapath on ENA (model/ena_netmap.py)
    "ena_netmap_alloc_rx_slot": ena("ena_netmap.c", 107),
    "ena_netmap_txsync": ena("ena_netmap.c", 326),
    "ena_netmap_tx_frames": ena("ena_netmap.c", 350),
    "ena_netmap_tx_frame": ena("ena_netmap.c", 390),
    "ena_netmap_tx_cleanup": ena("ena_netmap.c", 800),
    "ena_netmap_tx_clean_one": ena("ena_netmap.c", 833),
    "ena_netmap_rxsync": ena("ena_netmap.c", 872),
    "ena_netmap_rx_frames": ena("ena_netmap.c", 900),
    "ena_netmap_rx_frame": ena("ena_netmap.c", 927),
    "ena_netmap_rx_load_desc": ena("ena_netmap.c", 1004),
    "ena_netmap_rx_cleanup": ena("ena_netmap.c", 1040),
    # -- netmap on ENA in impl/ena/nm_*.py
    "ena_netmap_attach": ena("ena_netmap.c", 85),
    "ena_free_tx_resources": ena("ena.c", 761),
    "ena_netmap_free_rx_slot": ena("ena_netmap.c", 172),
    "ena_netmap_tx_map_slots": ena("ena_netmap.c", 552),
    "ena_netmap_unmap_last_socket_chain": ena("ena_netmap.c", 768),
    "struct ena_netmap_tx_info": ena("ena.h", 283),
    "struct ena_tx_buffer": ena("ena.h", 290),
    "ena_down": ena("ena.c", 2612),
    "ena_reset_task": ena("ena.c", 3784),
}
SYMBOLS.update(ENA_SYMBOLS)

#: The management plane (register BAR, admin queue, AENQ) cited by impl/device and impl/ena.
MGMT_SYMBOLS: dict[str, Symbol] = {
    "ena_com_admin_init_aenq": ena("ena-com/ena_com.c", 172),
    "comp_ctxt_release": ena("ena-com/ena_com.c", 217),
    "get_comp_ctxt": ena("ena-com/ena_com.c", 225),
    "__ena_com_submit_admin_cmd": ena("ena-com/ena_com.c", 255),
    "ena_com_submit_admin_cmd": ena("ena-com/ena_com.c", 337),
    "ena_com_handle_single_admin_completion": ena("ena-com/ena_com.c", 497),
    "ena_com_handle_admin_completion": ena("ena-com/ena_com.c", 527),
    "ena_delay_exponential_backoff_us": ena("ena-com/ena_com.c", 590),
    "ena_com_wait_and_process_admin_cq_polling": ena("ena-com/ena_com.c", 598),
    "ena_com_wait_and_process_admin_cq_interrupts": ena("ena-com/ena_com.c", 821),
    "ena_com_reg_bar_read32": ena("ena-com/ena_com.c", 886),
    "wait_for_reset_state": ena("ena-com/ena_com.c", 1036),
    "ena_com_check_supported_feature_id": ena("ena-com/ena_com.c", 1064),
    "ena_com_get_feature_ex": ena("ena-com/ena_com.c", 1077),
    "ena_com_abort_admin_commands": ena("ena-com/ena_com.c", 1530),
    "ena_com_comp_status_to_errno": ena("ena-com/ena_com.c", 564),
    "ena_com_set_admin_auto_polling_mode": ena("ena-com/ena_com.c", 1793),
    "ena_com_destroy_io_sq": ena("ena-com/ena_com.c", 963),
    "ena_com_destroy_io_cq": ena("ena-com/ena_com.c", 1565),
    "ena_com_get_dev_basic_stats": ena("ena-com/ena_com.c", 2689),
    "ena_config_host_info": ena("ena.c", 2943),
    "ena_change_mtu": ena("ena.c", 331),
    "ena_update_on_link_change": ena("ena.c", 4182),
    "ena_notification": ena("ena.c", 4208),
    "unimplemented_aenq_handler": ena("ena.c", 4248),
    "ena_conf_notification": ena("ena.c", 4257),
    "ena_admin_device_request_reset": ena("ena.c", 4283),
    "ena_com_wait_for_abort_completion": ena("ena-com/ena_com.c", 1550),
    "ena_com_admin_aenq_enable": ena("ena-com/ena_com.c", 1605),
    "ena_com_get_dma_width": ena("ena-com/ena_com.c", 1658),
    "ena_com_validate_version": ena("ena-com/ena_com.c", 1683),
    "ena_com_mmio_reg_read_request_init": ena("ena-com/ena_com.c", 2050),
    "ena_com_admin_init": ena("ena-com/ena_com.c", 2112),
    "ena_get_dev_stats": ena("ena-com/ena_com.c", 2285),
    "ena_com_get_dev_attr_feat": ena("ena-com/ena_com.c", 2334),
    "ena_com_get_specific_aenq_cb": ena("ena-com/ena_com.c", 2429),
    "ena_com_aenq_intr_handler": ena("ena-com/ena_com.c", 2444),
    "ena_com_aenq_has_keep_alive": ena("ena-com/ena_com.c", 2506),
    "ena_com_dev_reset": ena("ena-com/ena_com.c", 2566),
    "ena_admin_aq_common_desc": ena("ena-com/ena_defs/ena_admin_defs.h", 196),
    "ena_admin_ena_mmio_req_read_less_resp": ena("ena-com/ena_defs/ena_admin_defs.h", 1291),
    "ENA_ADMIN_AQ_COMMON_DESC_COMMAND_ID_MASK": ena("ena-com/ena_defs/ena_admin_defs.h", 1321),
    "aenq_handlers": ena("ena.c", 4292),
}
SYMBOLS.update(MGMT_SYMBOLS)

#: The adapter around them: attach, up/down, the timer service and the reset flow
#: (impl/ena/adapter.py, impl/ena/watchdog.py, impl/ena/device_init.py).
ADAPTER_SYMBOLS: dict[str, Symbol] = {
    "ena_com_aenq_has_keep_alive": ena("ena-com/ena_com.c", 2506),
    "ena_probe": ena("ena.c", 304),
    "create_queues_with_size_backoff": ena("ena.c", 2164),
    "ena_up": ena("ena.c", 2254),
    "ena_down": ena("ena.c", 2612),
    "ena_calc_max_io_queue_num": ena("ena.c", 2645),
    "ena_set_queues_placement_policy": ena("ena.c", 2739),
    "ena_calc_io_queue_size": ena("ena.c", 2848),
    "ena_device_init": ena("ena.c", 2993),
    "ena_enable_msix_and_set_admin_interrupts": ena("ena.c", 3099),
    "check_for_missing_keep_alive": ena("ena.c", 3159),
    "check_for_admin_com_state": ena("ena.c", 3183),
    "check_for_rx_interrupt_queue": ena("ena.c", 3198),
    "check_missing_comp_in_tx_queue": ena("ena.c", 3247),
    "check_for_missing_completions": ena("ena.c", 3343),
    "check_for_empty_rx_ring": ena("ena.c", 3398),
    "ena_update_hints": ena("ena.c", 3436),
    "ena_timer_service": ena("ena.c", 3535),
    "ena_destroy_device": ena("ena.c", 3594),
    "ena_restore_device": ena("ena.c", 3672),
    "ena_reset_task": ena("ena.c", 3784),
    "ena_attach": ena("ena.c", 3821),
}
SYMBOLS.update(ADAPTER_SYMBOLS)

#: The buffer frees and refills of ena_down / ena_up (model/ena_reset_buffers.py).
RESET_BUFFER_SYMBOLS: dict[str, Symbol] = {
    "ena_free_all_io_rings_resources": ena("ena.c", 494),
    "ena_free_rx_bufs": ena("ena.c", 1443),
    "ena_refill_all_rx_bufs": ena("ena.c", 1470),
    "ena_free_all_rx_bufs": ena("ena.c", 1491),
    "ena_free_tx_bufs": ena("ena.c", 1505),
    "ena_free_all_tx_bufs": ena("ena.c", 1539),
    "ena_destroy_all_io_queues": ena("ena.c", 1570),
    "ena_up_complete": ena("ena.c", 2128),
}
SYMBOLS.update(RESET_BUFFER_SYMBOLS)

#: The sysctl interface (impl/ena/sysctl*.py): the handlers of ena_sysctl.c and what they call.
SYSCTL_SYMBOLS: dict[str, Symbol] = {
    "hw.ena": ena("ena_sysctl.c", 129),
    "ena_log_level": ena("ena_sysctl.c", 135),
    "hw.ena.driver_version": ena("ena_sysctl.c", 139),
    "ena_enable_9k_mbufs": ena("ena_sysctl.c", 150),
    "ena_force_large_llq_header": ena("ena_sysctl.c", 162),
    "ena_sysctl_add_wd": ena("ena_sysctl.c", 203),
    "ena_sysctl_add_tuneables": ena("ena_sysctl.c", 564),
    "ena_sysctl_add_rss": ena("ena_sysctl.c", 609),
    "ena_sysctl_add_irq_affinity": ena("ena_sysctl.c", 646),
    "ena_sysctl_update_queue_node_nb": ena("ena_sysctl.c", 690),
    "ena_sysctl_buf_ring_size": ena("ena_sysctl.c", 711),
    "ena_sysctl_rx_queue_size": ena("ena_sysctl.c", 759),
    "ena_sysctl_io_queues_nb": ena("ena_sysctl.c", 820),
    "ena_sysctl_io_queues_nb (return with the lock held)": ena("ena_sysctl.c", 875),
    "ena_sysctl_metrics_interval": ena("ena_sysctl.c", 887),
    "ena_sysctl_metrics_interval (return 0)": ena("ena_sysctl.c", 931),
    "ena_sysctl_irq_base_cpu": ena("ena_sysctl.c", 935),
    "ena_sysctl_irq_cpu_stride": ena("ena_sysctl.c", 991),
    "ena_sysctl_rss_key": ena("ena_sysctl.c", 1050),
    "ena_sysctl_rss_key (pair parse)": ena("ena_sysctl.c", 1107),
    "ena_sysctl_rss_indir_table": ena("ena_sysctl.c", 1146),
    "ena_sysctl_rss_indir_table (record parse)": ena("ena_sysctl.c", 1183),
    "ena_rss_get_hash_key": ena("ena_rss.c", 127),
    "ena_rss_indir_get": ena("ena_rss.c", 271),
    "ena_rss_indir_set": ena("ena_rss.c", 293),
    "struct ena_indir": ena("ena_rss.h", 79),
    "ena_rss_copy_indir_buf": ena("ena_rss.h", 93),
    "ena_log": ena("ena-com/ena_plat.h", 106),
    "ENA_MIN_RING_SIZE": ena("ena.h", 105),
    "ENA_BASE_CPU_UNSPECIFIED": ena("ena.h", 107),
    "ena_update_buf_ring_size": ena("ena.c", 1187),
    "ena_update_queue_size": ena("ena.c", 1242),
    "ena_update_base_cpu": ena("ena.c", 1315),
    "ena_update_cpu_stride": ena("ena.c", 1354),
    "ena_update_io_queue_nb": ena("ena.c", 1394),
    "ena_com_get_hash_function": ena("ena-com/ena_com.c", 2952),
    "ena_com_get_hash_key": ena("ena-com/ena_com.c", 2979),
    "ena_com_indirect_table_get": ena("ena-com/ena_com.c", 3225),
}
SYMBOLS.update(SYSCTL_SYMBOLS)


def url(name: str) -> str:
    """The permalink of a named symbol."""
    return SYMBOLS[name].url


def link(name: str, text: str | None = None) -> str:
    """A Markdown link to a named symbol, shown as code: ``[`nm_txsync_prologue`](url)``."""
    label = text if text is not None else name.split(" (")[0]
    return f"[`{label}`]({url(name)})"
