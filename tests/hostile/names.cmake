# The hostile libraries, by target name (included by tests/hostile and by
# the tests that load them, which may be configured first).
# One ctor library per constructor act: the first five reach for files,
# sockets and processes; the rest are the classes of reach.h (kernel
# objects, signals, memory), tried again at run time by the probe.
set(PT_CTOR_NAMES create read socket fork chmod
  memory fixed growsdown hugetlb exec_anon rlimit secretmem pipe shm msg sem mqueue
  keyring sigqueue timer setown pidfd ioprio unshare kill ptrace vm_read
  abstract libfile keepfd requeue
  setsched setprio affinity prctl personality vfork clone3 vm_write procmem memfd
  io_uring userfaultfd perf bpf keyctl setns seccomp)
set(PT_HOSTILE_TARGETS pt_probe pt_split)
foreach(name ${PT_CTOR_NAMES})
  list(APPEND PT_HOSTILE_TARGETS pt_ctor_${name})
endforeach()
