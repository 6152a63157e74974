/*
 * moss/json.h - cJSON on moss's counting allocator.
 *
 * moss_json_init() routes every cJSON allocation through moss_alloc
 * (MOSS_SUB_JSON).  Idempotent; every module that uses cJSON calls it
 * before its first cJSON call, so no block is ever allocated by one
 * allocator and freed by the other.
 */
#ifndef MOSS_JSON_H
#define MOSS_JSON_H

void moss_json_init(void);

#endif
