/* Runs every unit suite; exit status 0 only when all pass. */
#include <stdlib.h>
#include <check.h>

#include "suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(NULL);
	int failed;

#define VIGIL_ADD_SUITE(name) srunner_add_suite(sr, name##_suite());
	VIGIL_SUITES(VIGIL_ADD_SUITE)
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
