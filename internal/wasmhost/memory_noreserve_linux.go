package wasmhost

import "syscall"

// mapNoReserve: the reservation is not charged against the commit limit;
// only the pages a guest touches are.
const mapNoReserve = syscall.MAP_NORESERVE
