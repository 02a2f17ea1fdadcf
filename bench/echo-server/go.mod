module slo-harness/bench/echo-server

go 1.24
