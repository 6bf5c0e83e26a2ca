package logql

func (q *MetricQuery) init() {}
