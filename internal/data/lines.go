package data

// DecodeLines decodes data, a run of whole lines read from a source
// described by info, as the parallel reader decodes one of its chunks:
// firstLine is the 1-based number of data's first line and offset the
// input offset of data[0] (for Origin). Lines over DefaultMaxLineBytes,
// malformed lines and lines that are not audit events become rejects;
// opts' Prefilter and time window select the events. It is what a
// source that reads lines itself (a followed file) decodes them with.
func DecodeLines(d *Decoder, data []byte, firstLine, offset int64, info *SourceInfo, opts *ReadOptions) *Batch {
	return decodeChunk(d, &chunk{data: data, firstLine: firstLine, offset: offset}, info, opts)
}
