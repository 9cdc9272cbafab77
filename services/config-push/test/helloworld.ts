// The demo helloworld service that `isthmus up` runs, reused by these tests.
export { GreeterClient, helloworldServer, sayHello } from "../../../cli/src/demo/helloworld.js";
