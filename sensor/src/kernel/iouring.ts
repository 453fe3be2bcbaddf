/**
 * io_uring names: opcodes (enum io_uring_op) and ring setup flags (IORING_SETUP_*), without
 * their prefixes, as facts report them ("OPENAT", "SQPOLL"). The opcode table is Linux 6.18's;
 * layout.livetest.ts compares it with the running kernel's BTF when available.
 */

/** enum io_uring_op, index = opcode. */
export const IORING_OPS: readonly string[] = [
  'NOP', 'READV', 'WRITEV', 'FSYNC', 'READ_FIXED', 'WRITE_FIXED', 'POLL_ADD', 'POLL_REMOVE',
  'SYNC_FILE_RANGE', 'SENDMSG', 'RECVMSG', 'TIMEOUT', 'TIMEOUT_REMOVE', 'ACCEPT', 'ASYNC_CANCEL',
  'LINK_TIMEOUT', 'CONNECT', 'FALLOCATE', 'OPENAT', 'CLOSE', 'FILES_UPDATE', 'STATX', 'READ',
  'WRITE', 'FADVISE', 'MADVISE', 'SEND', 'RECV', 'OPENAT2', 'EPOLL_CTL', 'SPLICE',
  'PROVIDE_BUFFERS', 'REMOVE_BUFFERS', 'TEE', 'SHUTDOWN', 'RENAMEAT', 'UNLINKAT', 'MKDIRAT',
  'SYMLINKAT', 'LINKAT', 'MSG_RING', 'FSETXATTR', 'SETXATTR', 'FGETXATTR', 'GETXATTR', 'SOCKET',
  'URING_CMD', 'SEND_ZC', 'SENDMSG_ZC', 'READ_MULTISHOT', 'WAITID', 'FUTEX_WAIT', 'FUTEX_WAKE',
  'FUTEX_WAITV', 'FIXED_FD_INSTALL', 'FTRUNCATE', 'BIND', 'LISTEN', 'RECV_ZC', 'EPOLL_WAIT',
  'READV_FIXED', 'WRITEV_FIXED', 'PIPE',
];

/** The opcode's name without IORING_OP_; unknown (newer) opcodes as "OP_<n>". */
export function iouringOpName(opcode: number): string {
  return IORING_OPS[opcode] ?? `OP_${opcode}`;
}

/** IORING_SETUP_* bit -> name (UAPI include/uapi/linux/io_uring.h). */
export const IORING_SETUP_FLAGS: readonly string[] = [
  'IOPOLL', 'SQPOLL', 'SQ_AFF', 'CQSIZE', 'CLAMP', 'ATTACH_WQ', 'R_DISABLED', 'SUBMIT_ALL',
  'COOP_TASKRUN', 'TASKRUN_FLAG', 'SQE128', 'CQE32', 'SINGLE_ISSUER', 'DEFER_TASKRUN', 'NO_MMAP',
  'REGISTERED_FD_ONLY', 'NO_SQARRAY', 'HYBRID_IOPOLL', 'CQE_MIXED',
];

export const IORING_SETUP_SQPOLL = 1 << 1;

/** Names of the set bits of IORING_SETUP_* flags; unknown bits as "BIT_<n>". */
export function iouringSetupFlagNames(flags: number): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if ((flags >>> bit) & 1) names.push(IORING_SETUP_FLAGS[bit] ?? `BIT_${bit}`);
  }
  return names;
}
