// The demo helloworld service that `isthmus up` runs, reused by these tests.
export { GreeterClient, greeter, helloworldServer, sayHello } from "../../../cli/src/demo/helloworld.js";
