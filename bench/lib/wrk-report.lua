-- Prints wrk's summary as one JSON line, so the benchmark need not parse wrk's human output.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'{"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latencyUs":{"p50":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
		summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
