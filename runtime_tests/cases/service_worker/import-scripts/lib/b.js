var fromB = "b sees a: " + typeof fromA;
