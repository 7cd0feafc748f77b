package jwtwebhook_test

import goruntime "runtime"

func runtimeNumCPU() int { return goruntime.GOMAXPROCS(0) }
