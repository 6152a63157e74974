/* Private helpers shared by the POSIX port files. */
#ifndef MOSS_PORT_INT_H
#define MOSS_PORT_INT_H

/* Remember errno's text for moss_port_last_error(). */
void moss_port_set_error(int e);

#endif
