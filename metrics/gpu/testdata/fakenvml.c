/* A stand-in for libnvidia-ml.so.1 with the few entry points the gpu
   package calls, so the purego binding runs on a machine without a GPU.
   Two devices; the second has no temperature sensor. */
#include <string.h>

typedef struct { unsigned int gpu, memory; } util_t;
typedef struct { unsigned long long total, free, used; } mem_t;
static int inited;

int nvmlInit_v2(void) { inited = 1; return 0; }
int nvmlShutdown(void) { inited = 0; return 0; }
int nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return inited ? 0 : 1; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **dev) { *dev = (void *)(unsigned long)(i + 100); return 0; }
int nvmlDeviceGetName(void *dev, char *buf, unsigned int n) { strncpy(buf, dev == (void *)100 ? "Fake H200" : "Fake L4", n); return 0; }
int nvmlDeviceGetUUID(void *dev, char *buf, unsigned int n) { strncpy(buf, dev == (void *)100 ? "GPU-aaaa" : "GPU-bbbb", n); return 0; }
int nvmlDeviceGetUtilizationRates(void *dev, util_t *u) { u->gpu = dev == (void *)100 ? 42 : 0; u->memory = 7; return 0; }
int nvmlDeviceGetMemoryInfo(void *dev, mem_t *m) { m->total = 150754820096ULL; m->used = 1073741824ULL; m->free = m->total - m->used; return 0; }
int nvmlDeviceGetTemperature(void *dev, int sensor, unsigned int *c) { if (dev != (void *)100 || sensor != 0) return 3; *c = 33; return 0; }
int nvmlDeviceGetPowerUsage(void *dev, unsigned int *mw) { *mw = 123456; return 0; }
