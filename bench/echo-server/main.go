// A fast HTTP/1.1 server for the load-engine bench: answers every request with 200 "ok", so the generator,
// not the server, is what the bench measures. Standard library only. Loopback only.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	flag.Parse()
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	// The harness reads the chosen port from the first stdout line.
	fmt.Fprintf(os.Stdout, "%s\n", listener.Addr().String())
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
	})
	log.Fatal(http.Serve(listener, handler))
}
