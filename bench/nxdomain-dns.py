#!/usr/bin/env python3
"""A DNS server for benchmarks that answers every query over UDP with NXDOMAIN, so that a relay's
SPF, DKIM and DMARC lookups get a quick answer without leaving the machine.
   nxdomain-dns.py PORT"""
import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    query, client = sock.recvfrom(4096)
    if len(query) < 12:
        continue
    # The question's end: its labels, then type and class.
    end = 12
    while end < len(query) and query[end] != 0:
        end += 1 + query[end]
    end += 5
    if end > len(query):
        continue
    # Same id and question; QR, the query's opcode and RD, RA, RCODE 3; no other records.
    flags = bytes([0x80 | (query[2] & 0x79), 0x80 | 3])
    sock.sendto(query[:2] + flags + b"\0\1\0\0\0\0\0\0" + query[12:end], client)
