/* CApiC99Test.c - checks that winnow_runtime.h compiles as C99 and that the
 * basic status flow works from C. */
#include "winnow/runtime/winnow_runtime.h"

#include <stdio.h>
#include <string.h>

int main(void) {
  winnow_device *device = NULL;
  winnow_status status = winnow_device_create("cuda:0", &device);
  if (winnow_status_code(status) != WINNOW_STATUS_UNIMPLEMENTED ||
      strstr(winnow_status_message(status), "CUDA") == NULL) {
    fprintf(stderr, "unexpected status %s: %s\n",
            winnow_status_code_name(winnow_status_code(status)),
            winnow_status_message(status));
    return 1;
  }
  winnow_status_free(status);
  status = winnow_device_create("cpu", &device);
  if (status != WINNOW_OK)
    return 1;
  winnow_device_release(device);
  return 0;
}
