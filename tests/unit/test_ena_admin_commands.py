"""Each admin command through the admin queue: success and its error statuses (as the
errno ena_com returns), with the device state unchanged on failure; the features the
driver uses; GET_STATS; the feature_unsupported fault."""

from __future__ import annotations

import errno

import numpy as np
from support.ena_mgmt_rig import admin_rig

from impl.device import DeviceConfig
from impl.device.features import DEFAULT_SUPPORTED, FeatureId, Limits
from impl.device.mgmt_faults import MgmtFaults
from impl.device.queues import RX_CQ_WORDS, TX_CQ_WORDS
from impl.ena import admin_cmds as ac
from impl.ena.admin_queue import TRY_AGAIN
from impl.ena_defs import mgmt_layouts as m
from impl.ena_defs.admin import CreateCqCmd, CreateSqCmd, DestroyCqCmd, DestroySqCmd
from impl.ena_defs.constants import AdminOpcode, AqCaps, HashFunction, PlacementPolicy
from impl.ena_defs.constants import SqDirection as D

F = FeatureId


def cq(rig, words: int = TX_CQ_WORDS, depth: int = 64):  # type: ignore[no-untyped-def]
    ba = rig.bus.mem.alloc(depth * 4 * words)
    return ac.create_io_cq(rig.aq, rig.feat, CreateCqCmd(depth, ba, 1, words))


def sq(rig, cq_idx: int, direction: D = D.TX, depth: int = 64):  # type: ignore[no-untyped-def]
    ba = rig.bus.mem.alloc(depth * 16)
    return ac.create_io_sq(rig.aq, rig.feat,
                           CreateSqCmd(direction, PlacementPolicy.HOST, cq_idx, depth, ba))


def test_device_attributes_and_queue_limits() -> None:
    rig = admin_rig(DeviceConfig(caps=(1 << AqCaps.CDESC_MBZ) | (1 << AqCaps.ENI_STATS),
                                 dma_addr_width=44, max_queues=8), learn=False)
    rc, f = ac.get_dev_attr_feat(rig.aq, rig.feat)
    assert rc == 0 and f.dev_attr is not None and f.max_queue_ext is not None
    assert rig.feat.supported_features == DEFAULT_SUPPORTED
    assert rig.feat.has_cap(AqCaps.ENI_STATS) and rig.feat.has_cap(AqCaps.CDESC_MBZ)
    assert int(f.dev_attr["phys_addr_width"][0]) == 44
    assert bytes(f.dev_attr["mac_addr"][0]) == Limits().mac
    assert int(f.dev_attr["max_mtu"][0]) == 9216
    assert int(f.max_queue_ext["version"][0]) == 1
    assert int(f.max_queue_ext["max_tx_sq_num"][0]) == 4
    assert f.llq is not None and int(f.llq["entry_size_recommended"][0]) == 1  # 128 B
    assert f.aenq is not None and int(f.aenq["supported_groups"][0]) == 0xFF


def test_unadvertised_features_are_refused_by_the_driver_then_by_the_device() -> None:
    limits = Limits(supported_features=DEFAULT_SUPPORTED & ~(1 << F.HW_HINTS) & ~(1 << F.LLQ))
    rig = admin_rig(learn=False)
    rig.dev.features.limits = limits
    rc, f = ac.get_dev_attr_feat(rig.aq, rig.feat)
    assert rc == 0 and f.hw_hints is not None and not f.hw_hints.view(np.uint8).any()
    cmds = rig.dev.mgmt_stats.admin_cmds
    assert ac.get_feature(rig.aq, rig.feat, F.LLQ, m.LLQ_DTYPE)[0] == errno.EOPNOTSUPP
    assert rig.dev.mgmt_stats.admin_cmds == cmds  # ena_com never sent it
    rig.feat.supported_features = 0xFFFFFFFF  # a driver that sends it anyway
    assert ac.get_feature(rig.aq, rig.feat, F.LLQ, m.LLQ_DTYPE)[0] == errno.EOPNOTSUPP
    assert ac.get_feature(rig.aq, rig.feat, F.PHC_CONFIG, m.MTU_DTYPE)[0] == errno.EOPNOTSUPP
    # SET of a read-only feature
    assert ac.set_feature(rig.aq, rig.feat, F.DEVICE_ATTRIBUTES,
                          np.zeros(1, m.DEVICE_ATTR_DTYPE)) == errno.EOPNOTSUPP


def test_feature_unsupported_fault() -> None:
    rig = admin_rig(faults=MgmtFaults(feature_unsupported=1.0), learn=False)
    assert ac.get_feature(rig.aq, rig.feat, F.MTU, m.MTU_DTYPE)[0] == errno.EOPNOTSUPP
    assert rig.dev.mgmt_stats.feature_unsupported == 1 and rig.aq.running_state


def test_create_and_destroy_io_queues_with_their_errors() -> None:
    rig = admin_rig(DeviceConfig(max_queues=2))
    assert sq(rig, 0)[0] == errno.EINVAL  # CQ before SQ: there is no CQ 0 yet
    assert not rig.dev.queues.sq_used.any()
    rc, c = cq(rig)
    assert rc == 0 and c is not None and c.cq_idx == 0 and c.cq_actual_depth == 64
    assert c.cq_interrupt_unmask_register_offset == rig.dev.queues.unmask_offset(0)
    assert cq(rig, depth=48)[0] == errno.EINVAL  # not a power of two
    rc, s = sq(rig, 0)
    assert rc == 0 and s is not None and s.sq_doorbell_offset == rig.dev.queues.doorbell_offset(0)
    assert rig.dev.queues.sq_cq[0] == 0
    assert cq(rig, RX_CQ_WORDS)[0] == 0
    assert cq(rig)[0] == errno.ENOMEM  # RESOURCE_ALLOCATION_FAILURE: table full
    assert ac.destroy_io_cq(rig.aq, DestroyCqCmd(0)) == TRY_AGAIN  # RESOURCE_BUSY
    assert rig.dev.queues.cq_used[0]
    assert ac.destroy_io_sq(rig.aq, DestroySqCmd(0, D.RX)) == errno.EINVAL  # wrong direction
    assert ac.destroy_io_sq(rig.aq, DestroySqCmd(0, D.TX)) == 0
    assert ac.destroy_io_sq(rig.aq, DestroySqCmd(0, D.TX)) == errno.EINVAL
    assert ac.destroy_io_cq(rig.aq, DestroyCqCmd(0)) == 0
    assert not rig.dev.queues.cq_used[0] and rig.aq.running_state


def test_malformed_direction_and_dma_width_check() -> None:
    rig = admin_rig()
    c = np.zeros(1, m.CREATE_SQ_CMD_DTYPE)
    c["aq_common_descriptor"]["opcode"] = AdminOpcode.CREATE_SQ
    c["sq_identity"] = 7 << 5  # direction 7
    rc, comp = rig.aq.execute(c)
    assert rc == errno.EINVAL and int(comp.view(m.ACQ_COMMON_DTYPE)[0]["status"]) == 4
    rig.feat.dma_addr_bits = 32
    cmds = rig.dev.mgmt_stats.admin_cmds
    assert ac.create_io_cq(rig.aq, rig.feat, CreateCqCmd(64, 1 << 33, 1, 2))[0] == errno.EINVAL
    assert rig.dev.mgmt_stats.admin_cmds == cmds


def test_mtu_and_aenq_config() -> None:
    rig = admin_rig()
    mtu = np.zeros(1, m.MTU_DTYPE)
    mtu["mtu"] = 9001
    assert ac.set_feature(rig.aq, rig.feat, F.MTU, mtu) == 0
    assert int(ac.get_feature(rig.aq, rig.feat, F.MTU, m.MTU_DTYPE)[1]["mtu"][0]) == 9001
    mtu["mtu"] = 9217
    assert ac.set_feature(rig.aq, rig.feat, F.MTU, mtu) == errno.EINVAL
    assert rig.dev.features.state.mtu == 9001
    aenq = np.zeros(1, m.AENQ_FEAT_DTYPE)
    aenq["enabled_groups"] = 0b11011111
    assert ac.set_feature(rig.aq, rig.feat, F.AENQ_CONFIG, aenq) == 0
    rig.dev.features.limits = Limits(aenq_supported=0x1F)
    aenq["enabled_groups"] = 0x3F
    assert ac.set_feature(rig.aq, rig.feat, F.AENQ_CONFIG, aenq) == errno.EINVAL
    assert rig.dev.features.state.aenq_enabled == 0b11011111


def test_rss_hash_function_key_by_control_buffer() -> None:
    rig = admin_rig()
    key = np.zeros(1, m.HASH_CONTROL_DTYPE)
    key["key_parts"] = 10
    key["key"] = np.arange(10, dtype=np.uint32) * 0x01010101
    buf = rig.bus.mem.alloc(48)
    rig.bus.mem.view(buf, 48)[:] = key.view(np.uint8)
    rec = np.zeros(1, m.HASH_FUNCTION_DTYPE)
    rec["selected_func"] = 1 << HashFunction.CRC32
    rec["init_val"] = 0xFFFFFFFF
    assert ac.set_feature(rig.aq, rig.feat, F.RSS_HASH_FUNCTION, rec, buf, 48) == 0
    rss = rig.dev.rss
    assert rss.function == HashFunction.CRC32 and rss.init_val == 0xFFFFFFFF
    assert rss.hw_key == key["key"][0].astype("<u4").tobytes()
    # read back through a fresh control buffer
    out = rig.bus.mem.alloc(48)
    rc, got = ac.get_feature(rig.aq, rig.feat, F.RSS_HASH_FUNCTION, m.HASH_FUNCTION_DTYPE,
                             ctrl_addr=out, ctrl_len=48)
    assert rc == 0 and int(got["supported_func"][0]) == 0b110
    assert bytes(rig.bus.mem.view(out + 8, 40)) == rss.hw_key
    before = (rss.function, rss.hw_key)
    rec["selected_func"] = 0b110  # two functions at once
    assert ac.set_feature(rig.aq, rig.feat, F.RSS_HASH_FUNCTION, rec, buf, 48) == errno.EINVAL
    rec["selected_func"] = 1 << HashFunction.TOEPLITZ
    assert ac.set_feature(rig.aq, rig.feat, F.RSS_HASH_FUNCTION, rec) == errno.EINVAL  # no key
    assert (rss.function, rss.hw_key) == before


def test_rss_hash_input_and_indirection_table() -> None:
    rig = admin_rig()
    hc = np.zeros(1, m.HASH_CTRL_DTYPE)
    hc["selected_fields"]["fields"][0, :] = 0b1100  # L3 SA|DA everywhere
    buf = rig.bus.mem.alloc(256)
    rig.bus.mem.view(buf, 256)[:] = hc.view(np.uint8)
    inp = np.zeros(1, m.HASH_INPUT_DTYPE)
    inp["enabled_input_sort"] = 0b110
    assert ac.set_feature(rig.aq, rig.feat, F.RSS_HASH_INPUT, inp, buf, 256) == 0
    assert (rig.dev.rss.fields == 0b1100).all() and rig.dev.rss.l3_sort and rig.dev.rss.l4_sort
    inp["enabled_input_sort"] = 0b1000
    assert ac.set_feature(rig.aq, rig.feat, F.RSS_HASH_INPUT, inp, buf, 256) == errno.EINVAL
    # indirection: only RX SQs may be named
    assert cq(rig)[0] == 0 and sq(rig, 0, D.TX)[0] == 0
    assert cq(rig, RX_CQ_WORDS)[0] == 0 and sq(rig, 1, D.RX)[0] == 0
    tbl = np.zeros(128, m.IND_TABLE_ENTRY_DTYPE)
    tbl["cq_idx"] = 1
    tb = rig.bus.mem.alloc(512)
    rig.bus.mem.view(tb, 512)[:] = tbl.view(np.uint8)
    ind = np.zeros(1, m.IND_TABLE_DTYPE)
    ind["size"] = 7
    ind["inline_index"] = 0xFFFFFFFF
    assert ac.set_feature(rig.aq, rig.feat, F.RSS_INDIRECTION_TABLE_CONFIG, ind, tb, 512) == 0
    assert (rig.dev.rss.table == 1).all()
    rig.bus.mem.view(tb, 2)[:] = 0  # entry 0 names SQ 0, a TX queue
    assert ac.set_feature(rig.aq, rig.feat, F.RSS_INDIRECTION_TABLE_CONFIG, ind, tb,
                          512) == errno.EINVAL
    assert ac.set_feature(rig.aq, rig.feat, F.RSS_INDIRECTION_TABLE_CONFIG, ind, tb,
                          100) == errno.EINVAL  # short buffer: MALFORMED_REQUEST
    ind["size"] = 8
    assert ac.set_feature(rig.aq, rig.feat, F.RSS_INDIRECTION_TABLE_CONFIG, ind, tb,
                          1024) == errno.EINVAL
    assert (rig.dev.rss.table == 1).all()


def test_llq_and_host_attributes() -> None:
    rig = admin_rig()
    llq = np.zeros(1, m.LLQ_DTYPE)
    llq["header_location_ctrl_enabled"] = 1
    llq["entry_size_ctrl_enabled"] = 4  # 256 B on a 128 B device
    llq["desc_num_before_header_enabled"] = 2
    llq["descriptors_stride_ctrl_enabled"] = 2
    assert ac.set_feature(rig.aq, rig.feat, F.LLQ, llq) == errno.EINVAL
    llq["entry_size_ctrl_enabled"] = 1
    assert ac.set_feature(rig.aq, rig.feat, F.LLQ, llq) == 0
    assert rig.dev.features.state.llq_entry_size_enabled == 1
    host = np.zeros(1, m.HOST_ATTR_DTYPE)
    assert ac.set_feature(rig.aq, rig.feat, F.HOST_ATTR_CONFIG, host) == errno.EINVAL
    info = rig.bus.mem.alloc(4096)
    m.set_addr(host, "os_info_ba", info)
    assert ac.set_feature(rig.aq, rig.feat, F.HOST_ATTR_CONFIG, host) == 0
    assert rig.dev.features.state.host_info_addr == info


def test_get_stats_basic_and_eni() -> None:
    rig = admin_rig()
    rig.dev.stats.tx_bytes = (1 << 33) + 7
    rig.dev.stats.rx_pkts = 12
    rc, st = ac.get_dev_basic_stats(rig.aq)
    assert rc == 0 and st["tx_bytes"] == (1 << 33) + 7 and st["rx_pkts"] == 12
    c = np.zeros(1, m.GET_STATS_CMD_DTYPE)
    c["aq_common_descriptor"]["opcode"] = AdminOpcode.GET_STATS
    c["type"] = 2  # ENI, without the capability
    assert rig.aq.execute(c)[0] == errno.EOPNOTSUPP
    eni = admin_rig(DeviceConfig(caps=1 << AqCaps.ENI_STATS))
    assert eni.aq.execute(c)[0] == 0
